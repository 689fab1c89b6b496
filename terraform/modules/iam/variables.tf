variable "project_id" {
  description = "Project that owns the service account."
  type        = string
}

variable "cluster_name" {
  description = "Cluster name; the account id is <cluster_name>-vm-sa (6-30 chars)."
  type        = string
}

variable "project_roles" {
  description = "Project-level roles for the VM service account. Only log and metric writers belong here."
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
