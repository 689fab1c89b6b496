variable "project_id" {
  description = "Project of the instance."
  type        = string
}

variable "region" {
  description = "Region of the instance."
  type        = string
}

variable "cluster_name" {
  description = "Cluster name; the instance is <cluster_name>-pg."
  type        = string
}

variable "network_id" {
  description = "VPC id the private IP lives in."
  type        = string
}

variable "private_range_name" {
  description = "Name of the private service access range to allocate from."
  type        = string
}

variable "database_version" {
  description = "POSTGRES_15 or POSTGRES_16."
  type        = string
}

variable "tier" {
  description = "Machine tier."
  type        = string
}

variable "edition" {
  description = "ENTERPRISE or ENTERPRISE_PLUS."
  type        = string
}

variable "availability_type" {
  description = "REGIONAL or ZONAL."
  type        = string
}

variable "disk_size_gb" {
  description = "Initial disk size in GB."
  type        = number
}

variable "deletion_protection" {
  description = "Terraform- and API-level deletion protection."
  type        = bool
  default     = true
}

variable "backup" {
  description = "start_time, retained_backups, transaction_log_retention_days."
  type = object({
    start_time                     = string
    retained_backups               = number
    transaction_log_retention_days = number
  })
}

variable "maintenance_window" {
  description = "day, hour, update_track."
  type = object({
    day          = number
    hour         = number
    update_track = string
  })
}

variable "max_connections" {
  description = "The max_connections flag (the kit sets it so that Ansible knows the limit before a run)."
  type        = number
  default     = 200

  validation {
    condition     = var.max_connections == floor(var.max_connections) && var.max_connections >= 14 && var.max_connections <= 262143
    error_message = "max_connections must be a whole number from 14 to 262143 (Cloud SQL's range)."
  }
}

variable "extra_database_flags" {
  description = "PostgreSQL flags added to the kit's audit-logging flags (max_connections is its own variable)."
  type        = map(string)
  default     = {}

  validation {
    condition     = !contains(keys(var.extra_database_flags), "max_connections")
    error_message = "extra_database_flags must not set max_connections: use the max_connections variable, which Ansible reads too."
  }
}

variable "database_name" {
  description = "Airflow metadata database."
  type        = string
  default     = "airflow"
}

variable "database_user" {
  description = "Airflow database user."
  type        = string
  default     = "airflow"
}

variable "db_password" {
  description = "Password of the database user (ephemeral: written through password_wo only)."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "db_password_version" {
  description = "Changing this number sets the password on the user again (password_wo_version)."
  type        = number
}

variable "labels" {
  description = "User labels of the instance."
  type        = map(string)
  default     = {}
}
