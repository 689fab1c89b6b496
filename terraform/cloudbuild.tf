# Push to main -> Cloud Build runs cloudbuild.yaml (DAG tests, then scripts/deploy/deploy.sh through IAP).
# Only with var.deploy_trigger set; see modules/cloudbuild for the build account's grants.
locals {
  deploy_instance_names = concat(
    ["${var.cluster_name}-main"],
    [for i in range(1, var.worker_count + 1) : "${var.cluster_name}-worker-${i}"],
  )
}

resource "google_project_service" "cloudbuild" {
  count = var.deploy_trigger != null && var.enable_apis ? 1 : 0

  project            = var.project_id
  service            = "cloudbuild.googleapis.com"
  disable_on_destroy = false
}

module "cloudbuild" {
  source = "./modules/cloudbuild"
  count  = var.deploy_trigger != null ? 1 : 0

  project_id               = var.project_id
  cluster_name             = var.cluster_name
  zone                     = var.zone
  github_owner             = var.deploy_trigger.github_owner
  github_repo              = var.deploy_trigger.github_repo
  branch                   = var.deploy_trigger.branch
  repo_url                 = var.deploy_trigger.repo_url
  vm_service_account_email = module.iam.vm_service_account_email
  build_service_account    = module.iam.deploy_service_account
  instance_names           = local.deploy_instance_names
  cluster_secret_ids       = module.secrets.secret_ids

  # What ansible/inventories/gcp reads with `terraform output -raw`; the build has no state to read.
  inventory_values = {
    project_id        = var.project_id
    cluster_name      = var.cluster_name
    db_private_ip     = module.sql.private_ip
    db_name           = module.sql.database_name
    db_user           = module.sql.database_user
    db_server_ca_cert = module.sql.server_ca_cert
    log_bucket_url    = module.storage.bucket_url
  }

  depends_on = [google_project_service.cloudbuild, module.vms, module.iam]
}
