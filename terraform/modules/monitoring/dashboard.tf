# One dashboard for the cluster: every chart is a PromQL query (TimeSeriesQuery.prometheusQuery; the
# timeSeriesQueryLanguage field would be MQL). The charts are data; the layout puts them two to a row.
locals {
  vm_regex = join("|", var.vm_names)
  # Label matchers that keep each chart on this cluster (the same as the alert rules').
  on_airflow    = "instance_name=~\"${local.vm_regex}\""
  on_vm_agent   = "monitored_resource=\"gce_instance\",metadata_system_name=~\"${local.vm_regex}\""
  on_vm_compute = "monitored_resource=\"gce_instance\",instance_name=~\"${local.vm_regex}\""
  on_sql        = "monitored_resource=\"cloudsql_database\",database_id=\"${var.project_id}:${var.sql_instance_name}\""

  # title, and one query per line of the chart (legend: a fixed name for a query that returns one series).
  dashboard_charts = [
    {
      title = "Scheduler heartbeats per minute"
      lines = [{ legend = "heartbeats", query = "sum(rate(airflow_scheduler_heartbeat_total{${local.on_airflow}}[5m])) * 60" }]
    },
    {
      title = "Executor slots and tasks"
      lines = [
        { legend = "open slots", query = "sum(airflow_executor_open_slots{${local.on_airflow}})" },
        { legend = "queued", query = "sum(airflow_executor_queued_tasks{${local.on_airflow}})" },
        { legend = "running", query = "sum(airflow_executor_running_tasks{${local.on_airflow}})" },
      ]
    },
    {
      title = "Task instances finished per minute"
      lines = [
        { legend = "successes", query = "sum(rate(airflow_ti_successes_total{${local.on_airflow}}[5m])) * 60" },
        { legend = "failures", query = "sum(rate(airflow_ti_failures_total{${local.on_airflow}}[5m])) * 60" },
      ]
    },
    {
      title = "DAG import errors"
      lines = [{ legend = "import errors", query = "max(airflow_dag_processing_import_errors{${local.on_airflow}})" }]
    },
    {
      title = "Celery workers online"
      lines = [{ legend = null, query = "sum by (worker) (flower_worker_online{${local.on_airflow}})" }]
    },
    {
      title = "Celery tasks executing per worker"
      lines = [{ legend = null, query = "sum by (worker) (flower_worker_number_of_currently_executing_tasks{${local.on_airflow}})" }]
    },
    {
      title = "Cloud SQL CPU utilisation"
      lines = [{ legend = "cpu", query = "max(cloudsql_googleapis_com:database_cpu_utilization{${local.on_sql}})" }]
    },
    {
      title = "Cloud SQL disk utilisation"
      lines = [{ legend = "disk", query = "max(cloudsql_googleapis_com:database_disk_utilization{${local.on_sql}})" }]
    },
    {
      title = "Cloud SQL connections per database"
      lines = [{ legend = null, query = "sum by (database) (cloudsql_googleapis_com:database_postgresql_num_backends{${local.on_sql}})" }]
    },
    {
      title = "VM CPU utilisation"
      lines = [{ legend = null, query = "max by (instance_name) (compute_googleapis_com:instance_cpu_utilization{${local.on_vm_compute}})" }]
    },
    {
      title = "VM memory used (%)"
      lines = [{ legend = null, query = "sum by (metadata_system_name) (agent_googleapis_com:memory_percent_used{${local.on_vm_agent},state=\"used\"})" }]
    },
    {
      title = "VM disk used, with reserved (%)"
      lines = [{ legend = null, query = "sum by (metadata_system_name, device) (agent_googleapis_com:disk_percent_used{${local.on_vm_agent},state!=\"free\"})" }]
    },
  ]

  # Mosaic layout, 48 columns: two charts of 24 x 16 per row. Zero positions are left out, as the API leaves
  # them out of what it returns.
  dashboard = {
    displayName = "Airflow cluster ${var.cluster_name}"
    labels      = var.labels
    mosaicLayout = {
      columns = 48
      tiles = [
        for i, c in local.dashboard_charts : merge(
          { width = 24, height = 16 },
          i % 2 == 0 ? {} : { xPos = 24 },
          i < 2 ? {} : { yPos = floor(i / 2) * 16 },
          {
            widget = {
              title = c.title
              xyChart = {
                dataSets = [
                  for l in c.lines : merge(
                    { plotType = "LINE", timeSeriesQuery = { prometheusQuery = l.query } },
                    l.legend == null ? {} : { legendTemplate = l.legend },
                  )
                ]
              }
            }
          },
        )
      ]
    }
  }
}

resource "google_monitoring_dashboard" "this" {
  count = var.enabled ? 1 : 0

  project        = var.project_id
  dashboard_json = jsonencode(local.dashboard)
}
