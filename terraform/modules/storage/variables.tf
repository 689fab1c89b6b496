variable "project_id" {
  description = "Project of the bucket; also prefixes its globally unique name."
  type        = string
}

variable "cluster_name" {
  description = "Cluster name; the bucket is <project_id>-<cluster_name>-task-logs."
  type        = string
}

variable "location" {
  description = "Bucket location (region or multi-region)."
  type        = string
}

variable "retention_days" {
  description = "Delete objects this many days after creation."
  type        = number
}

variable "noncurrent_retention_days" {
  description = "Delete noncurrent versions this many days after they became noncurrent."
  type        = number
}

variable "force_destroy" {
  description = "Allow destroying the bucket with objects in it."
  type        = bool
  default     = false
}

variable "writer_member" {
  description = "IAM member that writes and reads task logs (the VM service account)."
  type        = string
}

variable "extra_writers" {
  description = "Other IAM members that write and read task logs, by a key known at plan time: edge = the Edge worker VMs' own account. Empty: the VM account only."
  type        = map(string)
  default     = {}
}

variable "labels" {
  description = "Bucket labels."
  type        = map(string)
  default     = {}
}
