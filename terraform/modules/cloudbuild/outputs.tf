output "trigger_id" {
  description = "Id of the Cloud Build trigger."
  value       = google_cloudbuild_trigger.deploy.trigger_id
}

output "deploy_key_secret_id" {
  description = "Secret Manager id to add the read-only deploy key to."
  value       = google_secret_manager_secret.deploy_key.secret_id
}

output "approval_required" {
  description = "Whether every build waits for an approver (the trigger's approval_config)."
  value       = google_cloudbuild_trigger.deploy.approval_config[0].approval_required
}
