# ha: standard, plus a regional (high-availability) Cloud SQL instance with a standby in another zone,
# a third worker VM (3 x 2 x 8 = 48 Celery task slots), an Edge worker VM and deletion protection on the VMs.
# Cost: docs/gcp.md, "Profiles and what they cost".
project_id = "my-gcp-project"

worker_count             = 3
airflow_worker_instances = 2
main_machine_type        = "e2-standard-4"
worker_machine_type      = "e2-standard-4"
vm_deletion_protection   = true

# One Airflow Edge worker VM (airflow-edge-1, group airflow_edge_workers): it pulls its tasks from the API server over
# HTTPS and holds no Redis, database or secret. docs/gcp.md, "Edge workers".
edge_worker_count = 1

database_tier              = "db-custom-2-7680"
database_availability_type = "REGIONAL"

# Alerts e-mail the on-call list (replace the address); everything else about monitoring keeps its defaults.
# Alerts and dashboard: docs/gcp.md, "Monitoring and alerts".
monitoring = {
  email_addresses = ["airflow-oncall@example.com"]
}
