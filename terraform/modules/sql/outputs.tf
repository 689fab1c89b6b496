output "instance_name" {
  description = "Cloud SQL instance name."
  value       = google_sql_database_instance.this.name
}

output "private_ip" {
  description = "Private IP of the instance."
  value       = google_sql_database_instance.this.private_ip_address
}

output "connection_name" {
  description = "project:region:instance connection name."
  value       = google_sql_database_instance.this.connection_name
}

output "server_ca_cert" {
  description = "PEM of the server CA that signs the instance certificate (for sslmode=verify-ca)."
  value       = google_sql_database_instance.this.server_ca_cert[0].cert
  sensitive   = true
}

output "database_name" {
  description = "Database name."
  value       = google_sql_database.airflow.name
}

output "database_user" {
  description = "Database user."
  value       = google_sql_user.airflow.name
}
