output "private_ip" {
  description = "Private IP of the instance."
  value       = google_sql_database_instance.this.private_ip_address
}

output "server_ca_cert" {
  description = "PEM of the server CA that signs the instance certificate (for sslmode=verify-ca). A CA certificate is public."
  # The provider marks the whole server_ca_cert block sensitive; the CA certificate in it is public.
  value = nonsensitive(google_sql_database_instance.this.server_ca_cert[0].cert)
}

output "database_name" {
  description = "Database name."
  value       = google_sql_database.airflow.name
}

output "database_user" {
  description = "Database user."
  value       = google_sql_user.airflow.name
}
