output "secret_ids" {
  description = "Secret Manager secret id per secret name."
  value       = { for name, s in google_secret_manager_secret.this : name => s.secret_id }
}

output "versions" {
  description = "Secret Manager version number per secret name; a rotation (replaced version) changes it."
  value       = { for name, v in google_secret_manager_secret_version.this : name => tonumber(v.version) }
}
