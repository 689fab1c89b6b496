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

variable "writers" {
  description = "IAM members that write and read task logs, by a key known at plan time (main, worker, edge: the accounts of those VMs)."
  type        = map(string)

  validation {
    condition     = length(var.writers) > 0
    error_message = "writers must name at least one account (the main VM's)."
  }
}

variable "soft_delete_days" {
  description = "Days a deleted or overwritten log object (any version) stays recoverable, whatever the writers do: 7-90."
  type        = number
  default     = 7

  validation {
    condition     = var.soft_delete_days >= 7 && var.soft_delete_days <= 90 && floor(var.soft_delete_days) == var.soft_delete_days
    error_message = "soft_delete_days must be a whole number from 7 to 90 (Cloud Storage's soft delete range)."
  }
}

variable "labels" {
  description = "Bucket labels."
  type        = map(string)
  default     = {}
}
