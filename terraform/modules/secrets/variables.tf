variable "project_id" {
  description = "Project of the secrets."
  type        = string
}

variable "cluster_name" {
  description = "Cluster name; secret ids are <cluster_name>-<name>."
  type        = string
}

variable "accessor_member" {
  description = "IAM member granted roles/secretmanager.secretAccessor on each secret."
  type        = string
}

variable "labels" {
  description = "Secret labels."
  type        = map(string)
  default     = {}
}
