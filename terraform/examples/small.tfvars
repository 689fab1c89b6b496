# small: one all-in-one VM (worker_count = 0: the main VM also runs the Celery workers) and a shared-core,
# zonal Cloud SQL instance. 3 worker instances x airflow_worker_concurrency 8 = 24 task slots (Composer 3
# Small is sized for 18). No Cloud SQL SLA on shared-core tiers.
# Cost: docs/gcp.md, "Profiles and what they cost". Alerts and dashboard: the defaults (docs/gcp.md, "Monitoring and
# alerts"); add monitoring = { email_addresses = [...] } to be notified.
#   cp examples/small.tfvars terraform.tfvars   # then set project_id
project_id = "my-gcp-project"

worker_count             = 0
airflow_worker_instances = 3
main_machine_type        = "e2-standard-4"
main_disk_size_gb        = 30

# db-g1-small's default max_connections (50) is less than the all-in-one VM's Airflow pools may open with the
# kit's defaults (12 pools x 10 = 120; README, "Metadata DB connections"): raised to fit, which the 1.7 GB of the
# tier carries while most of those connections sit idle. Ansible checks the pools against it before any change.
database_tier              = "db-g1-small"
database_max_connections   = 150
database_availability_type = "ZONAL"
database_disk_size_gb      = 10
