# Push to main -> Cloud Build runs cloudbuild.yaml (the DAG tests, with no rights) and, on its success,
# cloudbuild-deploy.yaml (scripts/deploy/deploy.sh through IAP, held for approval by default). Only with
# var.deploy_trigger set; see modules/cloudbuild for the two builds' accounts and grants.
resource "google_project_service" "cloudbuild" {
  for_each = var.deploy_trigger != null && var.enable_apis ? toset(["cloudbuild.googleapis.com", "pubsub.googleapis.com"]) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "cloudbuild" {
  source = "./modules/cloudbuild"
  count  = var.deploy_trigger != null ? 1 : 0

  github_owner               = var.deploy_trigger.github_owner
  github_repo                = var.deploy_trigger.github_repo
  branch                     = var.deploy_trigger.branch
  approval_required          = var.deploy_trigger.approval_required
  create_build_topic         = var.deploy_trigger.create_build_topic
  repo_url                   = var.deploy_trigger.repo_url
  vm_service_account_emails  = { for kind, account in module.iam.vm_service_accounts : kind => account.email }
  edge_service_account_email = try(module.iam.edge_service_account.email, null)
  test_service_account       = module.iam.dag_test_service_account
  build_service_account      = module.iam.deploy_service_account
  # The same object the GCP inventory reads: the VMs the build may reach, the secrets site.yml reads, and
  # the inventory's values (the build has no Terraform state).
  ansible = local.ansible_output

  depends_on = [google_project_service.cloudbuild, module.vms, module.iam]
}
