output "enabled" {
  description = "Whether the module creates anything (var.enabled after its default)."
  value       = var.enabled
}

output "alert_policies" {
  description = "One entry per alert policy, keyed by rule name: its resource name (projects/PROJECT/alertPolicies/ID) and display name. Empty when disabled."
  value = {
    for name, p in google_monitoring_alert_policy.this : name => {
      name         = p.name
      display_name = p.display_name
    }
  }
}

output "dashboard_id" {
  description = "Id of the cluster's dashboard (projects/PROJECT_NUMBER/dashboards/ID), or null when disabled."
  value       = one(google_monitoring_dashboard.this[*].id)
}

output "notification_channels" {
  description = "Every channel the policies notify: the given ones, then the e-mail channels created here."
  value       = local.notification_channels
}

output "rules" {
  description = "The rules as deployed (after substitution and overrides), keyed by name: expr, duration, severity, enabled. A local Prometheus can load the same expressions."
  value = {
    for name, r in local.rules : name => {
      expr     = r.expr
      duration = r.duration
      severity = r.severity
      enabled  = var.enabled && r.enabled
    }
  }
}
