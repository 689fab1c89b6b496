# Read at run time by ansible/inventories/gcp (terraform output -raw/-json); never copied
# into files in git.
output "project_id" {
  description = "Project that hosts the cluster."
  value       = var.project_id
}

output "region" {
  description = "Region of the cluster."
  value       = var.region
}

output "zone" {
  description = "Zone of the VMs."
  value       = var.zone
}

output "cluster_name" {
  description = "Cluster name (the airflow-cluster label value)."
  value       = var.cluster_name
}

output "main_instance_name" {
  description = "Name of the main VM."
  value       = module.vms.main_instance_name
}

output "worker_instance_names" {
  description = "Names of the worker VMs."
  value       = module.vms.worker_instance_names
}

output "db_private_ip" {
  description = "Private IP of the Cloud SQL instance."
  value       = module.sql.private_ip
}

output "db_connection_name" {
  description = "Cloud SQL connection name (project:region:instance)."
  value       = module.sql.connection_name
}

output "db_name" {
  description = "Airflow metadata database."
  value       = module.sql.database_name
}

output "db_user" {
  description = "Airflow database user; its password is the <cluster_name>-db-password secret."
  value       = module.sql.database_user
}

output "db_server_ca_cert" {
  description = "PEM of the Cloud SQL server CA, for sslmode=verify-ca."
  value       = module.sql.server_ca_cert
  sensitive   = true
}

output "log_bucket_url" {
  description = "gs:// URL of the remote task-log bucket."
  value       = module.storage.bucket_url
}

output "vm_service_account_email" {
  description = "Service account of the VMs."
  value       = module.iam.vm_service_account_email
}

output "secret_ids" {
  description = "Secret Manager secret id per secret (values are never output)."
  value       = module.secrets.secret_ids
}

output "deploy_build_service_account_email" {
  description = "Service account of the DAG redeploy builds (null without deploy_trigger)."
  value       = one(module.cloudbuild[*].build_service_account_email)
}

output "deploy_trigger_id" {
  description = "Cloud Build trigger id (null without deploy_trigger)."
  value       = one(module.cloudbuild[*].trigger_id)
}

output "deploy_key_secret_id" {
  description = "Secret Manager id the read-only deploy key goes into (null without deploy_trigger)."
  value       = one(module.cloudbuild[*].deploy_key_secret_id)
}
