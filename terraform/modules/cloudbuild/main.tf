# Push to the branch -> cloudbuild.yaml: DAG tests, then scripts/deploy/deploy.sh through IAP to every VM.
# The build runs as its own service account (created with its two project roles, logging.logWriter and
# compute.viewer, in ../iam/deploy.tf, where all project-level grants live); here, the rest of the least it needs:
#   each VM:  iap.tunnelResourceAccessor (IAP TCP forwarding to port 22), compute.osAdminLogin (OS Login
#             with sudo: the redeploy runs as root)
#   VM account (and the Edge worker account, with edge VMs): iam.serviceAccountUser (required to log in
#             to VMs that run as a service account)
#   cluster secrets: secretAccessor, per secret (site.yml renders airflow.cfg on config changes)
# The VMs pull the repository with a read-only deploy key kept in Secret Manager; only the VM account reads it.
locals {
  build_member = var.build_service_account.member
  project_id   = var.ansible.project_id
  cluster_name = var.ansible.cluster_name
  zone         = var.ansible.zone
  # site.yml's first play targets every host of the inventory, the Edge workers too (a key of the ansible
  # object only when the cluster has them).
  edge_vm_names  = try(var.ansible.edge_vm_names, [])
  instance_names = concat([var.ansible.main_vm_name], var.ansible.worker_vm_names, local.edge_vm_names)
}

resource "google_iap_tunnel_instance_iam_member" "build" {
  for_each = toset(local.instance_names)

  project  = local.project_id
  zone     = local.zone
  instance = each.value
  role     = "roles/iap.tunnelResourceAccessor"
  member   = local.build_member
}

resource "google_compute_instance_iam_member" "build" {
  for_each = toset(local.instance_names)

  project       = local.project_id
  zone          = local.zone
  instance_name = each.value
  role          = "roles/compute.osAdminLogin"
  member        = local.build_member
}

resource "google_service_account_iam_member" "build_acts_as_vm" {
  service_account_id = "projects/${local.project_id}/serviceAccounts/${var.vm_service_account_email}"
  role               = "roles/iam.serviceAccountUser"
  member             = local.build_member
}

resource "google_service_account_iam_member" "build_acts_as_edge" {
  count = length(local.edge_vm_names) > 0 ? 1 : 0

  service_account_id = "projects/${local.project_id}/serviceAccounts/${var.edge_service_account_email}"
  role               = "roles/iam.serviceAccountUser"
  member             = local.build_member
}

resource "google_secret_manager_secret_iam_member" "build" {
  for_each = var.ansible.secret_ids

  project   = local.project_id
  secret_id = each.value
  role      = "roles/secretmanager.secretAccessor"
  member    = local.build_member
}

# The read-only deploy key (an SSH private key; its public half is a read-only deploy key of the
# repository). Terraform creates the empty secret only, so the key never enters the state:
#   gcloud secrets versions add <cluster>-deploy-key --data-file=deploy_key
resource "google_secret_manager_secret" "deploy_key" {
  project   = local.project_id
  secret_id = "${local.cluster_name}-deploy-key"

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_iam_member" "deploy_key_vm" {
  project   = local.project_id
  secret_id = google_secret_manager_secret.deploy_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${var.vm_service_account_email}"
}

resource "google_cloudbuild_trigger" "deploy" {
  project         = local.project_id
  name            = "${local.cluster_name}-deploy-dags"
  description     = "Push to ${var.branch}: DAG tests, then redeploy cluster ${local.cluster_name} (cloudbuild.yaml)."
  filename        = "cloudbuild.yaml"
  service_account = var.build_service_account.id

  github {
    owner = var.github_owner
    name  = var.github_repo

    push {
      branch = "^${var.branch}$"
    }
  }

  # A push to the branch runs site.yml as root on every VM: with approvals on, a second person decides.
  approval_config {
    approval_required = var.approval_required
  }

  substitutions = {
    _REPO_URL          = var.repo_url
    _DEPLOY_KEY_SECRET = google_secret_manager_secret.deploy_key.secret_id
    _TF_OUTPUTS        = jsonencode(var.ansible)
  }
}
