# standard: a main VM and two worker VMs, 2 worker instances each (2 x 2 x 8 = 32 task slots), dedicated-core
# zonal Cloud SQL. Cost: docs/gcp.md, "Profiles and what they cost".
project_id = "my-gcp-project"

worker_count             = 2
airflow_worker_instances = 2
main_machine_type        = "e2-standard-4"
worker_machine_type      = "e2-standard-4"

database_tier              = "db-custom-2-7680"
database_availability_type = "ZONAL"
