# Everything the Ansible side needs, as one object. Read once per ansible-playbook run by
# ansible/inventories/gcp/terraform_outputs.py (`terraform output -json ansible`), and handed to the Cloud
# Build redeploys as the _TF_OUTPUTS substitution (cloudbuild.tf). No secret value: secret ids only.
output "ansible" {
  description = "The cluster as the Ansible GCP inventory reads it."
  value       = local.ansible_output
}

output "deploy" {
  description = "The DAG test and redeploy triggers (null without deploy_trigger): their ids, whether deploy builds wait for approval, the two builds' service accounts, and the Secret Manager id the read-only deploy key goes into."
  value = var.deploy_trigger == null ? null : {
    trigger_id                     = module.cloudbuild[0].trigger_id
    test_trigger_id                = module.cloudbuild[0].test_trigger_id
    approval_required              = module.cloudbuild[0].approval_required
    build_service_account_email    = module.iam.deploy_service_account.email
    dag_test_service_account_email = module.iam.dag_test_service_account.email
    deploy_key_secret_id           = module.cloudbuild[0].deploy_key_secret_id
  }
}

output "monitoring" {
  description = "Alerts and dashboard (null with monitoring.enabled = false): alert policy per rule name (resource name and display name), the dashboard id, and the notification channels every policy notifies."
  value = module.monitoring.enabled ? {
    alert_policies        = module.monitoring.alert_policies
    dashboard_id          = module.monitoring.dashboard_id
    notification_channels = module.monitoring.notification_channels
  } : null
}
