# Alerting and a dashboard for one Airflow cluster, on Cloud Monitoring with PromQL.
#
# The rules are data (alert_rules.yaml): one alert policy per rule, each with one PromQL condition, the
# rule's Markdown documentation and the cluster's notification channels. The thresholds users tune are
# substituted into the rules' expressions here (templatefile), so the expressions themselves are written once and
# a local Prometheus can evaluate the same ones. The Airflow and Flower series reach Cloud Monitoring as Managed
# Service for Prometheus metrics through the Ops Agent on each VM; the VMs' service account already holds the
# two roles the agent writes with (roles/monitoring.metricWriter, roles/logging.logWriter: ../iam).
locals {
  rules_file = "${path.module}/alert_rules.yaml"

  # What the rules' placeholders stand for (alert_rules.yaml's header lists them).
  placeholders = {
    vm_names                   = join("|", var.vm_names)
    sql_database_id            = "${var.project_id}:${var.sql_instance_name}"
    scheduler_heartbeat_window = var.thresholds.scheduler_heartbeat_window
    queued_tasks_threshold     = var.thresholds.queued_tasks
    metadata_db_disk_threshold = var.thresholds.metadata_db_disk_used
    vm_disk_threshold          = var.thresholds.vm_disk_used
  }

  # Every rule of the file, with the caller's overrides applied ("for" is the rule file's word, duration the
  # override's: "for" cannot open an HCL object).
  rules = {
    for r in yamldecode(templatefile(local.rules_file, local.placeholders)).rules : r.name => {
      title         = r.title
      expr          = r.expr
      documentation = r.documentation
      enabled       = try(var.rules[r.name].enabled, null) == null ? true : var.rules[r.name].enabled
      duration      = coalesce(try(var.rules[r.name].duration, null), r["for"])
      severity      = coalesce(try(var.rules[r.name].severity, null), r.severity)
    }
  }

  # The rules that get a policy.
  active_rules = var.enabled ? { for name, r in local.rules : name => r if r.enabled } : {}

  # The one rule group of the cluster (Prometheus evaluates a group's rules at the group's interval).
  rule_group = "airflow-${var.cluster_name}"

  # "5m" -> 300: the API takes durations in seconds.
  evaluation_interval_seconds = tonumber(trimsuffix(trimsuffix(var.evaluation_interval, "s"), "m")) * (endswith(var.evaluation_interval, "m") ? 60 : 1)
  duration_seconds = {
    for name, r in local.active_rules : name => tonumber(trimsuffix(trimsuffix(r.duration, "s"), "m")) * (endswith(r.duration, "m") ? 60 : 1)
  }

  notification_channels = concat(
    var.notification_channels,
    [for c in google_monitoring_notification_channel.email : c.name],
  )
}

resource "google_monitoring_notification_channel" "email" {
  for_each = var.enabled ? toset(var.email_addresses) : toset([])

  project      = var.project_id
  display_name = "Airflow cluster ${var.cluster_name}: ${each.value}"
  description  = "E-mail for the alerts of Airflow cluster ${var.cluster_name}."
  type         = "email"
  labels = {
    email_address = each.value
  }
  user_labels = var.labels
}

resource "google_monitoring_alert_policy" "this" {
  for_each = local.active_rules

  project               = var.project_id
  display_name          = "${var.cluster_name}: ${each.value.title}"
  combiner              = "OR"
  severity              = upper(each.value.severity)
  notification_channels = local.notification_channels
  user_labels           = merge(var.labels, { "airflow-alert" = each.key })

  conditions {
    display_name = each.value.title

    condition_prometheus_query_language {
      query               = each.value.expr
      duration            = "${local.duration_seconds[each.key]}s"
      evaluation_interval = "${local.evaluation_interval_seconds}s"
      alert_rule          = each.key
      rule_group          = local.rule_group
      labels = {
        severity        = each.value.severity
        airflow_cluster = var.cluster_name
      }
      # The Airflow and Flower metrics exist only once the VMs ship them; the policy must not wait for that.
      disable_metric_validation = true
    }
  }

  documentation {
    subject   = "[${upper(each.value.severity)}] ${var.cluster_name}: ${each.value.title}"
    content   = each.value.documentation
    mime_type = "text/markdown"
  }
}
