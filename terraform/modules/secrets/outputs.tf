output "secret_ids" {
  description = "Secret Manager secret id per secret name."
  value       = { for name, s in google_secret_manager_secret.this : name => s.secret_id }
}

output "db_password" {
  description = "Password of the airflow database user."
  value       = module.material.values["db-password"]
  sensitive   = true
}
