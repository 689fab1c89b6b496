output "trigger_id" {
  description = "Id of the deploy trigger (started by a successful DAG-test build)."
  value       = google_cloudbuild_trigger.deploy.trigger_id
}

output "test_trigger_id" {
  description = "Id of the DAG-test trigger (started by a push to the branch)."
  value       = google_cloudbuild_trigger.test.trigger_id
}

output "deploy_key_secret_id" {
  description = "Secret Manager id to add the read-only deploy key to."
  value       = google_secret_manager_secret.deploy_key.secret_id
}

output "approval_required" {
  description = "Whether every deploy build waits for an approver (the deploy trigger's approval_config)."
  value       = google_cloudbuild_trigger.deploy.approval_config[0].approval_required
}
