# Every input has a type and a validation of its domain. Inputs left null take the default written here
# (nullable = false), so a caller can hand an object through without repeating the defaults.

variable "project_id" {
  description = "Project that holds the alert policies, notification channels and dashboard (and the cluster)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project id: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "cluster_name" {
  description = "Cluster name: prefixes the policies' and the dashboard's display names and labels the PromQL alerts (airflow_cluster)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,18}[a-z0-9]$", var.cluster_name))
    error_message = "cluster_name must be 2-20 characters of lowercase letters, digits and hyphens, start with a letter and not end with a hyphen."
  }
}

variable "enabled" {
  description = "Create the alert policies, e-mail channels and dashboard. false: create nothing."
  type        = bool
  default     = true
  nullable    = false
}

variable "vm_names" {
  description = "Names of the cluster's VMs. The PromQL selects their series only (instance_name, metadata_system_name), so several clusters can share a project."
  type        = list(string)

  validation {
    condition     = length(var.vm_names) > 0 && alltrue([for n in var.vm_names : can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", n))])
    error_message = "vm_names must list at least one Compute Engine instance name (lowercase letters, digits and hyphens, 1-63 characters, starting with a letter)."
  }
}

variable "sql_instance_name" {
  description = "Name of the Cloud SQL instance that holds the metadata DB (its disk alert and dashboard charts)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,96}[a-z0-9])?$", var.sql_instance_name))
    error_message = "sql_instance_name must be a Cloud SQL instance name: lowercase letters, digits and hyphens, starting with a letter, at most 98 characters."
  }
}

variable "notification_channels" {
  description = "Existing notification channels every policy notifies, as projects/PROJECT/notificationChannels/ID."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.notification_channels : can(regex("^projects/[a-z0-9-]{1,30}/notificationChannels/[0-9]+$", c))])
    error_message = "notification_channels must hold channel names of the form projects/PROJECT/notificationChannels/ID (ID: digits)."
  }
}

variable "email_addresses" {
  description = "E-mail addresses to notify: one e-mail notification channel is created for each, and every policy notifies them."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for e in var.email_addresses : can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}$", e))])
    error_message = "email_addresses must be plain e-mail addresses such as oncall@example.com."
  }

  validation {
    condition     = length(distinct([for e in var.email_addresses : lower(e)])) == length(var.email_addresses)
    error_message = "email_addresses must not list an address twice."
  }
}

variable "evaluation_interval" {
  description = "How often Cloud Monitoring evaluates each PromQL rule: Ns or Nm, a multiple of 30 s, at most 10m."
  type        = string
  default     = "60s"
  nullable    = false

  validation {
    condition = can(regex("^[1-9][0-9]*[sm]$", var.evaluation_interval)) && try(
      (tonumber(trimsuffix(trimsuffix(var.evaluation_interval, "s"), "m")) * (endswith(var.evaluation_interval, "m") ? 60 : 1)) % 30 == 0
      && tonumber(trimsuffix(trimsuffix(var.evaluation_interval, "s"), "m")) * (endswith(var.evaluation_interval, "m") ? 60 : 1) <= 600,
    false)
    error_message = "evaluation_interval must be a duration in seconds or minutes (e.g. 60s, 2m) that is a multiple of 30 s and at most 10m."
  }
}

variable "thresholds" {
  description = <<-EOT
    The values substituted into the alert rules (alert_rules.yaml):
      scheduler_heartbeat_window  no scheduler heartbeat within this window fires (Ns or Nm, 2m-60m: the rate needs
                                  two scrapes at the 60 s scrape interval)
      queued_tasks                more tasks than this waiting in the executor's queue fires (whole number >= 1)
      metadata_db_disk_used       Cloud SQL disk utilisation above this fraction fires (0 < x <= 1)
      vm_disk_used                a VM file system (used + reserved) fuller than this fraction fires (0 < x <= 1)
  EOT
  type = object({
    scheduler_heartbeat_window = optional(string, "5m")
    queued_tasks               = optional(number, 50)
    metadata_db_disk_used      = optional(number, 0.85)
    vm_disk_used               = optional(number, 0.9)
  })
  default  = {}
  nullable = false

  validation {
    condition = can(regex("^[1-9][0-9]*[sm]$", var.thresholds.scheduler_heartbeat_window)) && try(
      tonumber(trimsuffix(trimsuffix(var.thresholds.scheduler_heartbeat_window, "s"), "m")) * (endswith(var.thresholds.scheduler_heartbeat_window, "m") ? 60 : 1) >= 120
      && tonumber(trimsuffix(trimsuffix(var.thresholds.scheduler_heartbeat_window, "s"), "m")) * (endswith(var.thresholds.scheduler_heartbeat_window, "m") ? 60 : 1) <= 3600,
    false)
    error_message = "thresholds.scheduler_heartbeat_window must be a duration in seconds or minutes (e.g. 300s, 5m) from 2m to 60m."
  }

  validation {
    condition     = var.thresholds.queued_tasks >= 1 && var.thresholds.queued_tasks <= 100000 && floor(var.thresholds.queued_tasks) == var.thresholds.queued_tasks
    error_message = "thresholds.queued_tasks must be a whole number from 1 to 100000."
  }

  validation {
    condition     = var.thresholds.metadata_db_disk_used > 0 && var.thresholds.metadata_db_disk_used <= 1
    error_message = "thresholds.metadata_db_disk_used must be a fraction greater than 0 and at most 1 (0.85 = 85 %)."
  }

  validation {
    condition     = var.thresholds.vm_disk_used > 0 && var.thresholds.vm_disk_used <= 1
    error_message = "thresholds.vm_disk_used must be a fraction greater than 0 and at most 1 (0.9 = 90 %)."
  }
}

variable "rules" {
  description = "Per-rule overrides, keyed by a rule name of alert_rules.yaml: enabled (false: no policy for that rule), duration (replaces the rule's \"for\": Ns or Nm, 0s-24h) and severity (critical, error or warning). Unset fields keep the rule's own."
  type = map(object({
    enabled  = optional(bool)
    duration = optional(string)
    severity = optional(string)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for k in keys(var.rules) : contains([for r in yamldecode(file("${path.module}/alert_rules.yaml")).rules : r.name], k)])
    error_message = "rules keys must be rule names of modules/monitoring/alert_rules.yaml."
  }

  validation {
    condition = alltrue([for r in values(var.rules) : r.duration == null || (can(regex("^(0|[1-9][0-9]*)[sm]$", r.duration)) && try(
      tonumber(trimsuffix(trimsuffix(r.duration, "s"), "m")) * (endswith(r.duration, "m") ? 60 : 1) <= 86400,
    false))])
    error_message = "rules[*].duration must be a duration in seconds or minutes (e.g. 0s, 90s, 15m), at most 24h."
  }

  validation {
    condition     = alltrue([for r in values(var.rules) : r.severity == null || contains(["critical", "error", "warning"], coalesce(r.severity, "-"))])
    error_message = "rules[*].severity must be critical, error or warning."
  }
}

variable "labels" {
  description = "Labels of the alert policies (user_labels), the e-mail channels and the dashboard."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "labels keys must match ^[a-z][a-z0-9_-]{0,62}$ and values ^[a-z0-9_-]{0,63}$."
  }
}
