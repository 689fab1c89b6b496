# ---------------------------------------------------------------------------------------
# Where
# ---------------------------------------------------------------------------------------
variable "project_id" {
  description = "GCP project id that hosts the cluster (6-30 chars: lowercase letters, digits, hyphens; starts with a letter)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "region" {
  description = "GCP region for the subnet, Cloud SQL, Cloud NAT and the log bucket, e.g. europe-west1."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must look like a GCP region such as europe-west1 or us-central1."
  }
}

variable "zone" {
  description = "GCP zone for the VMs; must be inside var.region, e.g. europe-west1-b."
  type        = string
  default     = "europe-west1-b"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+-[a-z]$", var.zone))
    error_message = "zone must look like a GCP zone such as europe-west1-b."
  }

  validation {
    condition     = startswith(var.zone, "${var.region}-")
    error_message = "zone must be a zone of the chosen region (zone = \"<region>-<letter>\")."
  }
}

# ---------------------------------------------------------------------------------------
# Cluster shape
# ---------------------------------------------------------------------------------------
variable "cluster_name" {
  description = "Short name of the cluster; prefixes every resource name and the Secret Manager secret ids."
  type        = string
  default     = "airflow"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,18}[a-z0-9]$", var.cluster_name))
    error_message = "cluster_name must be 2-20 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen (derived names such as <cluster_name>-worker-20 must fit GCP limits)."
  }
}

variable "worker_count" {
  description = "Number of Celery worker VMs (<cluster_name>-worker-1..N). 0: one all-in-one VM, the main VM runs the workers too."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_count >= 0 && var.worker_count <= 20 && floor(var.worker_count) == var.worker_count
    error_message = "worker_count must be a whole number from 0 to 20."
  }
}

variable "airflow_worker_instances" {
  description = "Celery worker instances (airflow-worker@N) on each host of airflow_workers; handed to Ansible as airflow_worker_instances and opens log-server ports airflow_worker_log_server_port..+N-1. null: the roles' default (ansible/roles/airflow_base/defaults/main.yml)."
  type        = number
  default     = null

  validation {
    condition     = var.airflow_worker_instances == null || try(var.airflow_worker_instances >= 1 && var.airflow_worker_instances <= 8 && floor(var.airflow_worker_instances) == var.airflow_worker_instances, false)
    error_message = "airflow_worker_instances must be null or a whole number from 1 to 8."
  }
}

variable "main_machine_type" {
  description = "Machine type of the main VM (API server, scheduler, DAG processor, triggerer, Redis, Flower)."
  type        = string
  default     = "e2-standard-4"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,5}-[a-z0-9]+(-[a-z0-9]+)*$", var.main_machine_type))
    error_message = "main_machine_type must be a Compute Engine machine type such as e2-standard-4 or n2-custom-4-16384."
  }
}

variable "worker_machine_type" {
  description = "Machine type of each worker VM."
  type        = string
  default     = "e2-standard-4"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,5}-[a-z0-9]+(-[a-z0-9]+)*$", var.worker_machine_type))
    error_message = "worker_machine_type must be a Compute Engine machine type such as e2-standard-4 or n2-custom-4-16384."
  }
}

variable "main_disk_size_gb" {
  description = "Boot disk size of the main VM in GB."
  type        = number
  default     = 50

  validation {
    condition     = var.main_disk_size_gb >= 20 && var.main_disk_size_gb <= 2000
    error_message = "main_disk_size_gb must be between 20 and 2000."
  }
}

variable "worker_disk_size_gb" {
  description = "Boot disk size of each worker VM in GB."
  type        = number
  default     = 50

  validation {
    condition     = var.worker_disk_size_gb >= 20 && var.worker_disk_size_gb <= 2000
    error_message = "worker_disk_size_gb must be between 20 and 2000."
  }
}

# ---------------------------------------------------------------------------------------
# Edge workers (apache-airflow-providers-edge3; docs/gcp.md "Edge workers")
# ---------------------------------------------------------------------------------------
variable "edge_worker_count" {
  description = "Number of Airflow Edge worker VMs (<cluster_name>-edge-1..N, Ansible group airflow_edge_workers). Each runs `airflow edge worker` and pulls its tasks from the main VM's API server over HTTPS on the API port; it holds no Redis, database or Secret Manager access, and runs as its own service account <cluster_name>-edge-sa. 0: none (and no edge service account or firewall rule)."
  type        = number
  default     = 0

  validation {
    condition     = var.edge_worker_count >= 0 && var.edge_worker_count <= 10 && floor(var.edge_worker_count) == var.edge_worker_count
    error_message = "edge_worker_count must be a whole number from 0 to 10."
  }
}

variable "edge_machine_type" {
  description = "Machine type of each Edge worker VM."
  type        = string
  default     = "e2-standard-4"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,5}-[a-z0-9]+(-[a-z0-9]+)*$", var.edge_machine_type))
    error_message = "edge_machine_type must be a Compute Engine machine type such as e2-standard-4 or n2-custom-4-16384."
  }
}

variable "edge_disk_size_gb" {
  description = "Boot disk size of each Edge worker VM in GB."
  type        = number
  default     = 50

  validation {
    condition     = var.edge_disk_size_gb >= 20 && var.edge_disk_size_gb <= 2000
    error_message = "edge_disk_size_gb must be between 20 and 2000."
  }
}

variable "edge_tunnel_members" {
  description = "IAM principals of Edge workers outside Google Cloud (an on-prem host next to a NAS, docs/gcp.md \"An Edge worker outside Google Cloud\"): each may open an IAP TCP tunnel to the main VM on the API port only (roles/iap.tunnelResourceAccessor on that VM, with the condition destination.port == the API port), and gets roles/compute.viewer on the project (gcloud looks the VM up before it opens the tunnel). E.g. serviceAccount:edge-nas@PROJECT.iam.gserviceaccount.com or a workload identity federation principal://... ."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition = alltrue([for m in var.edge_tunnel_members : can(regex("^(user|group|serviceAccount|principal|principalSet):[^\\s]+$", m))]) && (
      length(distinct(var.edge_tunnel_members)) == length(var.edge_tunnel_members)
    )
    error_message = "edge_tunnel_members must be distinct IAM principals of the form user:, group:, serviceAccount:, principal: or principalSet: (no allUsers, allAuthenticatedUsers or domain:)."
  }
}

variable "boot_disk_type" {
  description = "Boot disk type of all VMs."
  type        = string
  default     = "pd-balanced"

  validation {
    condition     = contains(["pd-standard", "pd-balanced", "pd-ssd"], var.boot_disk_type)
    error_message = "boot_disk_type must be one of pd-standard, pd-balanced, pd-ssd."
  }
}

variable "vm_deletion_protection" {
  description = "Set Compute Engine deletion protection on the VMs."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------
variable "subnet_cidr" {
  description = "Primary range of the cluster subnet (RFC 1918, /16 to /29)."
  type        = string
  default     = "10.10.0.0/24"

  validation {
    condition = (
      can(cidrhost(var.subnet_cidr, 0))
      && can(regex("^(10\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|192\\.168\\.)", var.subnet_cidr))
      && try(cidrhost(var.subnet_cidr, 0) == split("/", var.subnet_cidr)[0], false)
      && try(tonumber(split("/", var.subnet_cidr)[1]) >= 16 && tonumber(split("/", var.subnet_cidr)[1]) <= 29, false)
    )
    error_message = "subnet_cidr must be a valid IPv4 network in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) with no host bits set and a prefix length from /16 to /29, e.g. 10.10.0.0/24."
  }
}

variable "sql_private_range_prefix_length" {
  description = "Prefix length of the range reserved for private service access (Cloud SQL private IP)."
  type        = number
  default     = 20

  validation {
    condition     = var.sql_private_range_prefix_length >= 16 && var.sql_private_range_prefix_length <= 24
    error_message = "sql_private_range_prefix_length must be between 16 and 24."
  }
}

variable "enable_apis" {
  description = "Enable the project services the cluster needs. Turn off when a platform team manages them."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------
# Cloud SQL
# ---------------------------------------------------------------------------------------
variable "database_version" {
  description = "Cloud SQL for PostgreSQL major version."
  type        = string
  default     = "POSTGRES_15"

  validation {
    condition     = contains(["POSTGRES_15", "POSTGRES_16"], var.database_version)
    error_message = "database_version must be POSTGRES_15 or POSTGRES_16."
  }
}

variable "database_tier" {
  description = "Cloud SQL machine tier, e.g. db-custom-2-7680 or db-g1-small (non-production)."
  type        = string
  default     = "db-custom-2-7680"

  validation {
    condition     = can(regex("^db-[a-z0-9]+(-[a-z0-9]+)*$", var.database_tier))
    error_message = "database_tier must be a Cloud SQL tier starting with db-, e.g. db-custom-2-7680."
  }
}

variable "database_edition" {
  description = "Cloud SQL edition. ENTERPRISE_PLUS needs db-perf-optimized-N-* tiers."
  type        = string
  default     = "ENTERPRISE"

  validation {
    condition     = contains(["ENTERPRISE", "ENTERPRISE_PLUS"], var.database_edition)
    error_message = "database_edition must be ENTERPRISE or ENTERPRISE_PLUS."
  }
}

variable "database_availability_type" {
  description = "REGIONAL (high availability, failover replica in another zone) or ZONAL."
  type        = string
  default     = "REGIONAL"

  validation {
    condition     = contains(["REGIONAL", "ZONAL"], var.database_availability_type)
    error_message = "database_availability_type must be REGIONAL or ZONAL."
  }
}

variable "database_disk_size_gb" {
  description = "Initial Cloud SQL disk size in GB (grows automatically)."
  type        = number
  default     = 20

  validation {
    condition     = var.database_disk_size_gb >= 10 && var.database_disk_size_gb <= 65536
    error_message = "database_disk_size_gb must be between 10 and 65536."
  }
}

variable "database_max_connections" {
  description = <<-EOT
    Cloud SQL's max_connections flag. Set explicitly (not left to the tier's default, 50 on db-g1-small) so that
    Ansible checks the Airflow processes' connection pools against it before it changes any VM: the main VM's
    worst case is its pools x (airflow_db_pool_size + airflow_db_max_overflow), README "Metadata DB connections".
  EOT
  type        = number
  default     = 200

  validation {
    condition     = var.database_max_connections == floor(var.database_max_connections) && var.database_max_connections >= 50 && var.database_max_connections <= 10000
    error_message = "database_max_connections must be a whole number from 50 to 10000 (Cloud SQL allows more, but each connection costs the server memory)."
  }
}

variable "database_deletion_protection" {
  description = "Protect the Cloud SQL instance from deletion (Terraform and API level)."
  type        = bool
  default     = true
}

variable "database_backup" {
  description = "Automated backups: start time (HH:MM UTC), retained backups, and point-in-time-recovery log days."
  type = object({
    start_time                     = optional(string, "02:00")
    retained_backups               = optional(number, 14)
    transaction_log_retention_days = optional(number, 7)
  })
  default = {}

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.database_backup.start_time))
    error_message = "database_backup.start_time must be HH:MM (24h, UTC)."
  }

  validation {
    condition     = var.database_backup.retained_backups >= 1 && var.database_backup.retained_backups <= 365
    error_message = "database_backup.retained_backups must be between 1 and 365."
  }

  validation {
    condition     = var.database_backup.transaction_log_retention_days >= 1 && var.database_backup.transaction_log_retention_days <= 7
    error_message = "database_backup.transaction_log_retention_days must be between 1 and 7 (ENTERPRISE edition limit)."
  }
}

variable "database_maintenance_window" {
  description = "Cloud SQL maintenance window: day 1-7 (Monday-Sunday), hour 0-23 UTC, update track."
  type = object({
    day          = optional(number, 7)
    hour         = optional(number, 3)
    update_track = optional(string, "stable")
  })
  default = {}

  validation {
    condition = (
      var.database_maintenance_window.day >= 1 && var.database_maintenance_window.day <= 7
      && var.database_maintenance_window.hour >= 0 && var.database_maintenance_window.hour <= 23
      && contains(["canary", "stable", "week5"], var.database_maintenance_window.update_track)
    )
    error_message = "database_maintenance_window needs day 1-7, hour 0-23 and update_track canary, stable or week5."
  }
}

# ---------------------------------------------------------------------------------------
# Task-log bucket
# ---------------------------------------------------------------------------------------
variable "log_retention_days" {
  description = "Delete task-log objects this many days after creation."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 1 && var.log_retention_days <= 3650 && floor(var.log_retention_days) == var.log_retention_days
    error_message = "log_retention_days must be a whole number from 1 to 3650."
  }
}

variable "log_noncurrent_retention_days" {
  description = "Delete overwritten (noncurrent) task-log object versions this many days after they were replaced."
  type        = number
  default     = 7

  validation {
    condition     = var.log_noncurrent_retention_days >= 1 && var.log_noncurrent_retention_days <= 365
    error_message = "log_noncurrent_retention_days must be between 1 and 365."
  }
}

variable "log_soft_delete_days" {
  description = "Days a deleted or overwritten task log stays recoverable in the bucket (soft delete), whatever task code does with its VM's account: 7-90."
  type        = number
  default     = 7

  validation {
    condition     = var.log_soft_delete_days >= 7 && var.log_soft_delete_days <= 90 && floor(var.log_soft_delete_days) == var.log_soft_delete_days
    error_message = "log_soft_delete_days must be a whole number from 7 to 90."
  }
}

variable "log_bucket_location" {
  description = "Location of the task-log bucket; null means the region."
  type        = string
  default     = null
}

variable "log_bucket_force_destroy" {
  description = "Let terraform destroy delete the log bucket with its objects. Keep false in production."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Extra labels for every labelled resource. The airflow-cluster and airflow-role labels are set by the kit."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "labels keys must match ^[a-z][a-z0-9_-]{0,62}$ and values ^[a-z0-9_-]{0,63}$."
  }

  validation {
    condition     = length(setintersection(keys(var.labels), ["airflow-cluster", "airflow-role"])) == 0
    error_message = "labels must not set airflow-cluster or airflow-role; the kit sets them (the Ansible inventory groups on them)."
  }
}

# ---------------------------------------------------------------------------------------
# DAG redeploys (cloudbuild.tf, docs/redeploy.md)
# ---------------------------------------------------------------------------------------
variable "deploy_trigger" {
  description = "Cloud Build triggers that test the DAGs on every push to branch of the connected GitHub repository (with no rights) and, when the tests pass, redeploy the cluster to that commit. null: no trigger. repo_url is what the VMs clone with the read-only deploy key (git@github.com:OWNER/REPO.git). approval_required (default true): every deploy build waits for a person with roles/cloudbuild.builds.approver to approve it before any step runs; false deploys every tested push unattended (docs/redeploy.md, \"Who can change the cluster\"). create_build_topic: false when the project has its cloud-builds Pub/Sub topic already."
  type = object({
    github_owner       = string
    github_repo        = string
    repo_url           = string
    branch             = optional(string, "main")
    approval_required  = optional(bool, true)
    create_build_topic = optional(bool, true)
  })
  default = null
}

# ---------------------------------------------------------------------------------------
# Monitoring and alerts (modules/monitoring, docs/gcp.md "Monitoring and alerts")
# ---------------------------------------------------------------------------------------
variable "monitoring" {
  description = <<-EOT
    Alert policies (one per rule of modules/monitoring/alert_rules.yaml) and a dashboard on Cloud Monitoring.
    Anything left unset takes the module's default (modules/monitoring/variables.tf).
      enabled                false: no policy, channel or dashboard (default true)
      notification_channels  existing channels to notify: projects/PROJECT/notificationChannels/ID
      email_addresses        one e-mail channel is created per address
      evaluation_interval    how often each rule is evaluated: Ns or Nm, a multiple of 30 s, at most 10m (60s)
      thresholds             scheduler_heartbeat_window (Ns or Nm, 2m-60m; 5m), queued_tasks (whole number >= 1; 50),
                             metadata_db_disk_used and vm_disk_used (fractions, 0 < x <= 1; 0.85 and 0.9)
      rules                  per rule name: enabled, duration (replaces the rule's "for": Ns or Nm, up to 24h) and
                             severity (critical, error, warning)
  EOT
  type = object({
    enabled               = optional(bool)
    notification_channels = optional(list(string))
    email_addresses       = optional(list(string))
    evaluation_interval   = optional(string)
    thresholds = optional(object({
      scheduler_heartbeat_window = optional(string)
      queued_tasks               = optional(number)
      metadata_db_disk_used      = optional(number)
      vm_disk_used               = optional(number)
    }))
    rules = optional(map(object({
      enabled  = optional(bool)
      duration = optional(string)
      severity = optional(string)
    })))
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for c in coalesce(var.monitoring.notification_channels, []) : can(regex("^projects/[a-z0-9-]{1,30}/notificationChannels/[0-9]+$", c))])
    error_message = "monitoring.notification_channels must hold channel names of the form projects/PROJECT/notificationChannels/ID (ID: digits)."
  }

  validation {
    condition = alltrue([for e in coalesce(var.monitoring.email_addresses, []) : can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}$", e))]) && (
      length(distinct([for e in coalesce(var.monitoring.email_addresses, []) : lower(e)])) == length(coalesce(var.monitoring.email_addresses, []))
    )
    error_message = "monitoring.email_addresses must be distinct plain e-mail addresses such as oncall@example.com."
  }

  validation {
    condition = var.monitoring.evaluation_interval == null || (can(regex("^[1-9][0-9]*[sm]$", coalesce(var.monitoring.evaluation_interval, "-"))) && try(
      (tonumber(trimsuffix(trimsuffix(var.monitoring.evaluation_interval, "s"), "m")) * (endswith(var.monitoring.evaluation_interval, "m") ? 60 : 1)) % 30 == 0
      && tonumber(trimsuffix(trimsuffix(var.monitoring.evaluation_interval, "s"), "m")) * (endswith(var.monitoring.evaluation_interval, "m") ? 60 : 1) <= 600,
    false))
    error_message = "monitoring.evaluation_interval must be a duration in seconds or minutes (e.g. 60s, 2m) that is a multiple of 30 s and at most 10m."
  }

  validation {
    condition = try(var.monitoring.thresholds.scheduler_heartbeat_window, null) == null || (can(regex("^[1-9][0-9]*[sm]$", var.monitoring.thresholds.scheduler_heartbeat_window)) && try(
      tonumber(trimsuffix(trimsuffix(var.monitoring.thresholds.scheduler_heartbeat_window, "s"), "m")) * (endswith(var.monitoring.thresholds.scheduler_heartbeat_window, "m") ? 60 : 1) >= 120
      && tonumber(trimsuffix(trimsuffix(var.monitoring.thresholds.scheduler_heartbeat_window, "s"), "m")) * (endswith(var.monitoring.thresholds.scheduler_heartbeat_window, "m") ? 60 : 1) <= 3600,
    false))
    error_message = "monitoring.thresholds.scheduler_heartbeat_window must be a duration in seconds or minutes (e.g. 300s, 5m) from 2m to 60m."
  }

  validation {
    condition = try(var.monitoring.thresholds.queued_tasks, null) == null || try(
      var.monitoring.thresholds.queued_tasks >= 1 && var.monitoring.thresholds.queued_tasks <= 100000 && floor(var.monitoring.thresholds.queued_tasks) == var.monitoring.thresholds.queued_tasks,
    false)
    error_message = "monitoring.thresholds.queued_tasks must be a whole number from 1 to 100000."
  }

  validation {
    condition = alltrue([
      for f in [try(var.monitoring.thresholds.metadata_db_disk_used, null), try(var.monitoring.thresholds.vm_disk_used, null)] :
      f == null || try(f > 0 && f <= 1, false)
    ])
    error_message = "monitoring.thresholds.metadata_db_disk_used and vm_disk_used must be fractions greater than 0 and at most 1 (0.9 = 90 %)."
  }

  validation {
    condition     = alltrue([for k in keys(coalesce(var.monitoring.rules, {})) : contains([for r in yamldecode(file("${path.module}/modules/monitoring/alert_rules.yaml")).rules : r.name], k)])
    error_message = "monitoring.rules keys must be rule names of modules/monitoring/alert_rules.yaml."
  }

  validation {
    condition = alltrue([for r in values(coalesce(var.monitoring.rules, {})) : r.duration == null || (can(regex("^(0|[1-9][0-9]*)[sm]$", coalesce(r.duration, "-"))) && try(
      tonumber(trimsuffix(trimsuffix(r.duration, "s"), "m")) * (endswith(r.duration, "m") ? 60 : 1) <= 86400,
    false))])
    error_message = "monitoring.rules[*].duration must be a duration in seconds or minutes (e.g. 0s, 90s, 15m), at most 24h."
  }

  validation {
    condition     = alltrue([for r in values(coalesce(var.monitoring.rules, {})) : r.severity == null || contains(["critical", "error", "warning"], coalesce(r.severity, "-"))])
    error_message = "monitoring.rules[*].severity must be critical, error or warning."
  }
}
