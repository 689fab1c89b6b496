variable "project_id" {
  description = "Project that owns the service account."
  type        = string
}

variable "cluster_name" {
  description = "Cluster name; the account ids are <cluster_name>-main-sa and <cluster_name>-worker-sa (6-30 chars)."
  type        = string
}

variable "worker_account" {
  description = "Create the Celery worker VMs' account (<cluster_name>-worker-sa): false when the cluster has no worker VMs (all-in-one)."
  type        = bool
  default     = true
}

variable "project_roles" {
  description = "Project-level roles of the main and worker VMs' accounts. Only log and metric writers belong here."
  type        = list(string)
  default     = ["roles/logging.logWriter", "roles/monitoring.metricWriter"]

  validation {
    condition = length([
      for r in var.project_roles : r
      if contains(["roles/owner", "roles/editor", "roles/viewer"], r) || startswith(r, "roles/storage.") || startswith(r, "roles/secretmanager.")
    ]) == 0
    error_message = "project_roles must not hold primitive roles or project-wide storage/secretmanager roles; grant those on the bucket or secret."
  }
}
