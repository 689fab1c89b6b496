# Push to main -> Cloud Build runs cloudbuild.yaml (DAG tests, then scripts/deploy/deploy.sh through IAP).
# Only with var.deploy_trigger set; see modules/cloudbuild for the build account's grants.
resource "google_project_service" "cloudbuild" {
  count = var.deploy_trigger != null && var.enable_apis ? 1 : 0

  project            = var.project_id
  service            = "cloudbuild.googleapis.com"
  disable_on_destroy = false
}

module "cloudbuild" {
  source = "./modules/cloudbuild"
  count  = var.deploy_trigger != null ? 1 : 0

  github_owner               = var.deploy_trigger.github_owner
  github_repo                = var.deploy_trigger.github_repo
  branch                     = var.deploy_trigger.branch
  approval_required          = var.deploy_trigger.approval_required
  repo_url                   = var.deploy_trigger.repo_url
  vm_service_account_email   = module.iam.vm_service_account_email
  edge_service_account_email = try(module.iam.edge_service_account.email, null)
  build_service_account      = module.iam.deploy_service_account
  # The same object the GCP inventory reads: the VMs the build may reach, the secrets site.yml reads, and
  # the inventory's values (the build has no Terraform state).
  ansible = local.ansible_output

  depends_on = [google_project_service.cloudbuild, module.vms, module.iam]
}
