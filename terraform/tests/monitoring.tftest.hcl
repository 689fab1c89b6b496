# Alerts and the dashboard (modules/monitoring) with a mocked google provider: one policy per rule of
# alert_rules.yaml, thresholds substituted into the PromQL, notification channels, the dashboard's PromQL charts,
# enabled = false creating nothing, the root's wiring, and a rejected bad value for every validation.
mock_provider "google" {}

variables {
  project_id        = "acme-data-prod"
  cluster_name      = "af"
  vm_names          = ["af-main", "af-worker-1", "af-worker-2"]
  sql_instance_name = "af-pg"
}

# --- the module ------------------------------------------------------------------------------------------------

run "rule_file_is_well_formed" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  assert {
    condition = alltrue([for r in yamldecode(file("modules/monitoring/alert_rules.yaml")).rules :
      contains(keys(output.rules), r.name) && can(regex("^[a-z][a-z0-9_]*$", r.name)) && length(r.title) > 0 && contains(["critical", "error", "warning"], r.severity)
      && can(regex("^(0|[1-9][0-9]*)[sm]$", r["for"])) && !strcontains(r.expr, "\n") && length(trimspace(r.documentation)) > 100
    ])
    error_message = "Every rule needs a label-name name, a title, a severity (critical, error, warning), a for of Ns or Nm, a one-line expr and documentation."
  }

  assert {
    condition     = length(output.rules) == length(yamldecode(file("modules/monitoring/alert_rules.yaml")).rules)
    error_message = "Rule names must be unique (they key the policies)."
  }

  assert {
    # A dollar or percent sign before a brace would be a template sequence left in the PromQL.
    condition     = alltrue([for r in output.rules : !can(regex("[$%][{]", r.expr))])
    error_message = "Every placeholder of the rules must be substituted."
  }

  assert {
    condition = toset(keys(output.rules)) == toset([
      "scheduler_heartbeat_missing", "celery_workers_missing", "queued_tasks_piling_up", "dag_import_errors",
      "metadata_db_disk_near_full", "vm_disk_near_full",
    ])
    error_message = "The kit alerts on: scheduler heartbeat, Celery workers, queued tasks, DAG import errors, metadata DB disk, VM disk."
  }
}

run "one_policy_per_rule" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  assert {
    condition     = toset(keys(google_monitoring_alert_policy.this)) == toset([for r in yamldecode(file("modules/monitoring/alert_rules.yaml")).rules : r.name])
    error_message = "There must be exactly one alert policy per rule of alert_rules.yaml, keyed by the rule's name."
  }

  assert {
    condition = alltrue([for r in yamldecode(file("modules/monitoring/alert_rules.yaml")).rules :
      google_monitoring_alert_policy.this[r.name].display_name == "af: ${r.title}"
      && google_monitoring_alert_policy.this[r.name].severity == upper(r.severity)
      && google_monitoring_alert_policy.this[r.name].documentation[0].content == r.documentation
      && google_monitoring_alert_policy.this[r.name].documentation[0].mime_type == "text/markdown"
    ])
    error_message = "Each policy is named <cluster_name>: <title>, carries the rule's severity and its Markdown documentation."
  }

  assert {
    condition = alltrue([for name, p in google_monitoring_alert_policy.this :
      length(p.conditions) == 1 && p.combiner == "OR"
      && p.conditions[0].condition_prometheus_query_language[0].alert_rule == name
      && p.conditions[0].condition_prometheus_query_language[0].rule_group == "airflow-af"
      && p.conditions[0].condition_prometheus_query_language[0].evaluation_interval == "60s"
      && p.conditions[0].condition_prometheus_query_language[0].disable_metric_validation == true
      && p.conditions[0].condition_prometheus_query_language[0].labels["severity"] == lower(p.severity)
      && p.conditions[0].condition_prometheus_query_language[0].labels["airflow_cluster"] == "af"
      && length(p.conditions[0].condition_prometheus_query_language[0].labels) == 2
    ])
    error_message = "Each policy has one PromQL condition: alert_rule = the rule name, rule group airflow-<cluster_name>, evaluated every 60 s, labelled with severity and cluster."
  }

  assert {
    condition = (
      google_monitoring_alert_policy.this["scheduler_heartbeat_missing"].conditions[0].condition_prometheus_query_language[0].duration == "60s"
      && google_monitoring_alert_policy.this["celery_workers_missing"].conditions[0].condition_prometheus_query_language[0].duration == "180s"
      && google_monitoring_alert_policy.this["queued_tasks_piling_up"].conditions[0].condition_prometheus_query_language[0].duration == "900s"
      && google_monitoring_alert_policy.this["vm_disk_near_full"].conditions[0].condition_prometheus_query_language[0].duration == "600s"
    )
    error_message = "A rule's for (1m, 3m, 15m, 10m) becomes the condition's duration in seconds."
  }

  assert {
    condition = (
      google_monitoring_alert_policy.this["scheduler_heartbeat_missing"].conditions[0].condition_prometheus_query_language[0].query
      == "(sum(increase(airflow_scheduler_heartbeat_total{instance_name=~\"af-main|af-worker-1|af-worker-2\"}[5m])) or vector(0)) < 1"
    )
    error_message = "The heartbeat rule: no heartbeat of this cluster's VMs within the default 5m window, an absent series included."
  }

  assert {
    condition     = alltrue([for p in google_monitoring_alert_policy.this : p.user_labels["airflow-alert"] == p.conditions[0].condition_prometheus_query_language[0].alert_rule])
    error_message = "Each policy is labelled airflow-alert = <rule name>."
  }

  assert {
    condition     = alltrue([for p in google_monitoring_alert_policy.this : length(p.notification_channels) == 0]) && length(google_monitoring_notification_channel.email) == 0
    error_message = "Without channels or addresses the policies notify nobody and no channel is created."
  }
}

run "default_thresholds_in_the_promql" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  assert {
    condition = (
      endswith(output.rules.queued_tasks_piling_up.expr, "> 50")
      && endswith(output.rules.metadata_db_disk_near_full.expr, "> 0.85")
      && endswith(output.rules.vm_disk_near_full.expr, "/ 100 > 0.9")
      && endswith(output.rules.dag_import_errors.expr, "> 0")
    )
    error_message = "The default thresholds are 50 queued tasks, 0.85 of the DB disk, 0.9 of a VM disk, and any import error."
  }

  assert {
    condition     = strcontains(output.rules.metadata_db_disk_near_full.expr, "database_id=\"acme-data-prod:af-pg\"") && strcontains(output.rules.metadata_db_disk_near_full.expr, "cloudsql_googleapis_com:database_disk_utilization{monitored_resource=\"cloudsql_database\"")
    error_message = "The DB disk rule reads Cloud SQL's disk utilisation of this cluster's instance (<project>:<instance>)."
  }

  assert {
    condition     = strcontains(output.rules.vm_disk_near_full.expr, "agent_googleapis_com:disk_percent_used{monitored_resource=\"gce_instance\",metadata_system_name=~\"af-main|af-worker-1|af-worker-2\",state!=\"free\"}")
    error_message = "The VM disk rule reads the Ops Agent's disk percent used (used + reserved) of this cluster's VMs only."
  }
}

run "tuned_thresholds_in_the_promql" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  variables {
    thresholds = {
      scheduler_heartbeat_window = "10m"
      queued_tasks               = 120
      metadata_db_disk_used      = 0.7
      vm_disk_used               = 0.95
    }
  }

  assert {
    condition = (
      strcontains(output.rules.scheduler_heartbeat_missing.expr, "[10m]")
      && endswith(output.rules.queued_tasks_piling_up.expr, "> 120")
      && endswith(output.rules.metadata_db_disk_near_full.expr, "> 0.7")
      && endswith(output.rules.vm_disk_near_full.expr, "> 0.95")
    )
    error_message = "Every threshold variable lands in its rule's PromQL."
  }

  assert {
    condition     = google_monitoring_alert_policy.this["queued_tasks_piling_up"].conditions[0].condition_prometheus_query_language[0].query == output.rules.queued_tasks_piling_up.expr
    error_message = "The policy's query is the substituted rule expression."
  }
}

run "rule_overrides" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  variables {
    evaluation_interval = "2m"
    rules = {
      dag_import_errors      = { enabled = false }
      queued_tasks_piling_up = { duration = "30m", severity = "error" }
    }
  }

  assert {
    condition     = !contains(keys(google_monitoring_alert_policy.this), "dag_import_errors") && length(google_monitoring_alert_policy.this) == 5
    error_message = "A rule switched off has no policy; the others keep theirs."
  }

  assert {
    condition = (
      google_monitoring_alert_policy.this["queued_tasks_piling_up"].conditions[0].condition_prometheus_query_language[0].duration == "1800s"
      && google_monitoring_alert_policy.this["queued_tasks_piling_up"].severity == "ERROR"
      && google_monitoring_alert_policy.this["celery_workers_missing"].severity == "CRITICAL"
    )
    error_message = "duration and severity overrides replace the rule's own; other rules keep theirs."
  }

  assert {
    condition     = alltrue([for p in google_monitoring_alert_policy.this : p.conditions[0].condition_prometheus_query_language[0].evaluation_interval == "120s"])
    error_message = "evaluation_interval 2m is 120s on every condition."
  }
}

run "notification_channels" {
  # apply (mocked): the created channels' names are known only after creation.
  command = apply

  module {
    source = "./modules/monitoring"
  }

  variables {
    notification_channels = ["projects/acme-data-prod/notificationChannels/1234567890"]
    email_addresses       = ["oncall@example.com", "data-team@example.org"]
    labels                = { "airflow-cluster" = "af" }
  }

  assert {
    condition = (
      length(google_monitoring_notification_channel.email) == 2
      && alltrue([for e, c in google_monitoring_notification_channel.email : c.type == "email" && c.labels.email_address == e && c.project == "acme-data-prod"])
    )
    error_message = "One e-mail channel per address, in the cluster's project."
  }

  assert {
    condition = alltrue([for p in google_monitoring_alert_policy.this :
      toset(p.notification_channels) == toset(concat(["projects/acme-data-prod/notificationChannels/1234567890"], [for c in google_monitoring_notification_channel.email : c.name]))
    ])
    error_message = "Every policy notifies the given channels and the created e-mail channels, and nothing else."
  }

  assert {
    condition     = length(output.notification_channels) == 3 && output.notification_channels[0] == "projects/acme-data-prod/notificationChannels/1234567890"
    error_message = "The notification_channels output lists the given channels, then the e-mail ones."
  }

  assert {
    condition     = alltrue([for p in google_monitoring_alert_policy.this : p.user_labels["airflow-cluster"] == "af"]) && jsondecode(google_monitoring_dashboard.this[0].dashboard_json).labels == { "airflow-cluster" = "af" }
    error_message = "The policies and the dashboard carry the kit's labels."
  }
}

run "dashboard" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  assert {
    condition     = length(google_monitoring_dashboard.this) == 1 && jsondecode(google_monitoring_dashboard.this[0].dashboard_json).displayName == "Airflow cluster af"
    error_message = "One dashboard, Airflow cluster <cluster_name>."
  }

  assert {
    condition = toset([for t in jsondecode(google_monitoring_dashboard.this[0].dashboard_json).mosaicLayout.tiles : t.widget.title]) == toset([
      "Scheduler heartbeats per minute", "Executor slots and tasks", "Task instances finished per minute", "DAG import errors",
      "Celery workers online", "Celery tasks executing per worker", "Cloud SQL CPU utilisation", "Cloud SQL disk utilisation",
      "Cloud SQL connections per database", "VM CPU utilisation", "VM memory used (%)", "VM disk used, with reserved (%)",
    ])
    error_message = "The dashboard charts heartbeats, executor slots, task outcomes, import errors, Celery workers, Cloud SQL CPU/disk/connections and VM CPU/memory/disk."
  }

  assert {
    condition = alltrue(flatten([for t in jsondecode(google_monitoring_dashboard.this[0].dashboard_json).mosaicLayout.tiles : [
      for d in t.widget.xyChart.dataSets : length(keys(d.timeSeriesQuery)) == 1 && length(d.timeSeriesQuery.prometheusQuery) > 0
    ]]))
    error_message = "Every chart line is a PromQL query (prometheusQuery), never MQL (timeSeriesQueryLanguage) or a filter."
  }

  assert {
    condition = alltrue(flatten([for t in jsondecode(google_monitoring_dashboard.this[0].dashboard_json).mosaicLayout.tiles : [
      for d in t.widget.xyChart.dataSets :
      strcontains(d.timeSeriesQuery.prometheusQuery, "=~\"af-main|af-worker-1|af-worker-2\"") || strcontains(d.timeSeriesQuery.prometheusQuery, "database_id=\"acme-data-prod:af-pg\"")
    ]]))
    error_message = "Every chart selects this cluster's VMs or its Cloud SQL instance only."
  }

  assert {
    condition = alltrue([for t in jsondecode(google_monitoring_dashboard.this[0].dashboard_json).mosaicLayout.tiles :
      try(t.xPos, 0) + t.width <= jsondecode(google_monitoring_dashboard.this[0].dashboard_json).mosaicLayout.columns
    ]) && length(distinct([for t in jsondecode(google_monitoring_dashboard.this[0].dashboard_json).mosaicLayout.tiles : "${try(t.xPos, 0)},${try(t.yPos, 0)}"])) == 12
    error_message = "The tiles fit the mosaic's 48 columns and do not overlap."
  }
}

run "disabled_creates_nothing" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  variables {
    enabled               = false
    notification_channels = ["projects/acme-data-prod/notificationChannels/1234567890"]
    email_addresses       = ["oncall@example.com"]
  }

  assert {
    condition = (
      length(google_monitoring_alert_policy.this) == 0 && length(google_monitoring_dashboard.this) == 0
      && length(google_monitoring_notification_channel.email) == 0
    )
    error_message = "enabled = false creates no policy, no dashboard and no channel."
  }

  assert {
    condition     = output.alert_policies == {} && output.dashboard_id == null && alltrue([for r in output.rules : r.enabled == false])
    error_message = "Disabled: no policies and no dashboard id in the outputs, every rule reported off."
  }
}

# --- the root module's wiring -------------------------------------------------------------------------------

run "root_monitors_by_default" {
  command = plan

  assert {
    condition     = output.monitoring != null && toset(keys(output.monitoring.alert_policies)) == toset([for r in yamldecode(file("modules/monitoring/alert_rules.yaml")).rules : r.name])
    error_message = "The cluster gets one alert policy per rule unless monitoring.enabled is false."
  }

  assert {
    condition     = output.monitoring.alert_policies["celery_workers_missing"].display_name == "af: No healthy Celery worker" && length(output.monitoring.notification_channels) == 0
    error_message = "Policies are named after the cluster and notify nobody until channels or addresses are given."
  }

  assert {
    condition = (
      strcontains(module.monitoring.rules.celery_workers_missing.expr, "instance_name=~\"af-main|af-worker-1|af-worker-2\"")
      && strcontains(module.monitoring.rules.metadata_db_disk_near_full.expr, "database_id=\"acme-data-prod:af-pg\"")
    )
    error_message = "The root hands the module the cluster's VM names (main, then workers) and its Cloud SQL instance."
  }
}

run "root_all_in_one_and_tuned" {
  command = plan

  variables {
    worker_count = 0
    monitoring = {
      email_addresses = ["oncall@example.com"]
      thresholds      = { queued_tasks = 24 }
      rules           = { vm_disk_near_full = { severity = "critical" } }
    }
  }

  assert {
    condition = (
      strcontains(module.monitoring.rules.scheduler_heartbeat_missing.expr, "instance_name=~\"af-main\"")
      && endswith(module.monitoring.rules.queued_tasks_piling_up.expr, "> 24")
      && endswith(module.monitoring.rules.metadata_db_disk_near_full.expr, "> 0.85")
      && module.monitoring.rules.vm_disk_near_full.severity == "critical"
    )
    error_message = "monitoring's fields reach the module; unset ones keep the module's defaults; an all-in-one cluster watches its one VM."
  }

  assert {
    condition     = length(output.monitoring.notification_channels) == 1
    error_message = "An address in monitoring.email_addresses becomes a channel every policy notifies."
  }
}

run "root_monitoring_disabled" {
  command = plan

  variables {
    monitoring = { enabled = false }
  }

  assert {
    condition     = output.monitoring == null && module.monitoring.alert_policies == {} && module.monitoring.dashboard_id == null
    error_message = "monitoring.enabled = false: no policy, no dashboard, and the monitoring output is null."
  }
}

# --- every validation of the module's variables ---------------------------------------------------------------

run "module_bad_project_id" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { project_id = "Acme_Prod" }
  expect_failures = [var.project_id]
}

run "module_bad_cluster_name" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { cluster_name = "Af" }
  expect_failures = [var.cluster_name]
}

run "module_no_vm_names" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { vm_names = [] }
  expect_failures = [var.vm_names]
}

run "module_bad_vm_name" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { vm_names = ["af-main", "af.worker|1"] }
  expect_failures = [var.vm_names]
}

run "module_bad_sql_instance_name" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { sql_instance_name = "acme-data-prod:af-pg" }
  expect_failures = [var.sql_instance_name]
}

run "module_bad_channel" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { notification_channels = ["1234567890"] }
  expect_failures = [var.notification_channels]
}

run "module_bad_email" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { email_addresses = ["oncall at example.com"] }
  expect_failures = [var.email_addresses]
}

run "module_duplicate_email" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { email_addresses = ["oncall@example.com", "OnCall@example.com"] }
  expect_failures = [var.email_addresses]
}

run "module_evaluation_interval_not_30s_multiple" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { evaluation_interval = "45s" }
  expect_failures = [var.evaluation_interval]
}

run "module_evaluation_interval_too_long" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { evaluation_interval = "15m" }
  expect_failures = [var.evaluation_interval]
}

run "module_evaluation_interval_in_hours" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { evaluation_interval = "1h" }
  expect_failures = [var.evaluation_interval]
}

run "module_heartbeat_window_too_short" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { thresholds = { scheduler_heartbeat_window = "1m" } }
  expect_failures = [var.thresholds]
}

run "module_heartbeat_window_not_a_duration" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { thresholds = { scheduler_heartbeat_window = "five minutes" } }
  expect_failures = [var.thresholds]
}

run "module_queued_tasks_zero" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { thresholds = { queued_tasks = 0 } }
  expect_failures = [var.thresholds]
}

run "module_queued_tasks_fraction" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { thresholds = { queued_tasks = 2.5 } }
  expect_failures = [var.thresholds]
}

run "module_db_disk_fraction_zero" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { thresholds = { metadata_db_disk_used = 0 } }
  expect_failures = [var.thresholds]
}

run "module_db_disk_percent_not_fraction" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { thresholds = { metadata_db_disk_used = 85 } }
  expect_failures = [var.thresholds]
}

run "module_vm_disk_fraction_above_one" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { thresholds = { vm_disk_used = 1.2 } }
  expect_failures = [var.thresholds]
}

run "module_unknown_rule" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { rules = { scheduler_down = { enabled = false } } }
  expect_failures = [var.rules]
}

run "module_rule_duration_in_hours" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { rules = { queued_tasks_piling_up = { duration = "2h" } } }
  expect_failures = [var.rules]
}

run "module_rule_duration_over_a_day" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { rules = { queued_tasks_piling_up = { duration = "1441m" } } }
  expect_failures = [var.rules]
}

run "module_rule_bad_severity" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { rules = { dag_import_errors = { severity = "page" } } }
  expect_failures = [var.rules]
}

run "module_bad_labels" {
  command = plan
  module { source = "./modules/monitoring" }
  variables { labels = { "Team" = "data" } }
  expect_failures = [var.labels]
}

# --- every validation of the root's monitoring variable ---------------------------------------------------------

run "root_bad_channel" {
  command = plan
  variables { monitoring = { notification_channels = ["projects/acme-data-prod/channels/1"] } }
  expect_failures = [var.monitoring]
}

run "root_bad_email" {
  command = plan
  variables { monitoring = { email_addresses = ["oncall@"] } }
  expect_failures = [var.monitoring]
}

run "root_duplicate_email" {
  command = plan
  variables { monitoring = { email_addresses = ["a@example.com", "a@example.com"] } }
  expect_failures = [var.monitoring]
}

run "root_bad_evaluation_interval" {
  command = plan
  variables { monitoring = { evaluation_interval = "20s" } }
  expect_failures = [var.monitoring]
}

run "root_bad_heartbeat_window" {
  command = plan
  variables { monitoring = { thresholds = { scheduler_heartbeat_window = "2h" } } }
  expect_failures = [var.monitoring]
}

run "root_bad_queued_tasks" {
  command = plan
  variables { monitoring = { thresholds = { queued_tasks = -5 } } }
  expect_failures = [var.monitoring]
}

run "root_bad_fraction" {
  command = plan
  variables { monitoring = { thresholds = { vm_disk_used = 90 } } }
  expect_failures = [var.monitoring]
}

run "root_unknown_rule" {
  command = plan
  variables { monitoring = { rules = { disk_full = { enabled = false } } } }
  expect_failures = [var.monitoring]
}

run "root_bad_rule_duration" {
  command = plan
  variables { monitoring = { rules = { dag_import_errors = { duration = "-1m" } } } }
  expect_failures = [var.monitoring]
}

run "root_bad_rule_severity" {
  command = plan
  variables { monitoring = { rules = { dag_import_errors = { severity = "CRITICAL" } } } }
  expect_failures = [var.monitoring]
}
