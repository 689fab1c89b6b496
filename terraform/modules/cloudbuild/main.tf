# Two builds, two identities, because the DAG tests import the DAG files, which are code whoever can push wrote:
#   test    push to the branch -> cloudbuild.yaml (the DAG tests), as the DAG-test account: build logs only, no
#           VM, no secret (../iam/deploy.tf). Whatever a DAG file does at import, it does with nothing.
#   deploy  that build's success (Cloud Build's notice on the cloud-builds topic) -> cloudbuild-deploy.yaml from
#           the branch, which deploys the tested commit through IAP to every VM, as the deploy account. Held for an
#           approver by default (approval_required): it runs site.yml as root on every VM and reads every secret.
# The deploy account's project roles (logging.logWriter, compute.viewer) are in ../iam/deploy.tf, where all
# project-level grants live; here, the rest of the least it needs:
#   each VM:  iap.tunnelResourceAccessor (IAP TCP forwarding to port 22), compute.osAdminLogin (OS Login
#             with sudo: the redeploy runs as root)
#   the VMs' accounts (main, worker, edge): iam.serviceAccountUser (required to log in to VMs that run as a
#             service account)
#   cluster secrets: secretAccessor, per secret (site.yml renders airflow.cfg on config changes)
# The Airflow VMs pull the repository with a read-only deploy key kept in Secret Manager; only their accounts
# read it (an Edge worker takes its DAGs by other means).
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
  for_each = var.vm_service_account_emails

  service_account_id = "projects/${local.project_id}/serviceAccounts/${each.value}"
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
  for_each = var.vm_service_account_emails

  project   = local.project_id
  secret_id = google_secret_manager_secret.deploy_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value}"
}

resource "google_cloudbuild_trigger" "test" {
  project         = local.project_id
  name            = "${local.cluster_name}-test-dags"
  description     = "Push to ${var.branch}: DAG tests of cluster ${local.cluster_name} (cloudbuild.yaml), with no deploy rights."
  filename        = "cloudbuild.yaml"
  service_account = var.test_service_account.id

  github {
    owner = var.github_owner
    name  = var.github_repo

    push {
      branch = "^${var.branch}$"
    }
  }
}

# Cloud Build publishes every build's changes of state here; the deploy trigger listens. An existing topic of the
# project (another team's notifications) is used as it is with create_build_topic = false.
resource "google_pubsub_topic" "builds" {
  #checkov:skip=CKV_GCP_83:The topic carries only Cloud Build's notices of build state (ids, status, substitutions such as secret ids, never a secret value), encrypted with Google-managed keys; a customer-managed key would need a KMS key the kit does not manage and a grant to Pub/Sub's service agent on it.
  count = var.create_build_topic ? 1 : 0

  project = local.project_id
  name    = "cloud-builds"
}

resource "google_cloudbuild_trigger" "deploy" {
  project         = local.project_id
  name            = "${local.cluster_name}-deploy-dags"
  description     = "A successful ${local.cluster_name}-test-dags build: redeploy cluster ${local.cluster_name} to its commit (cloudbuild-deploy.yaml)."
  service_account = var.build_service_account.id

  pubsub_config {
    topic = "projects/${local.project_id}/topics/cloud-builds"
  }

  # The message is the finished build: only a success of the test trigger deploys, and only its commit.
  substitutions = {
    _TEST_TRIGGER      = "$(body.message.data.buildTriggerId)"
    _TEST_STATUS       = "$(body.message.data.status)"
    _COMMIT            = "$(body.message.data.substitutions.COMMIT_SHA)"
    _REPO_URL          = var.repo_url
    _DEPLOY_KEY_SECRET = google_secret_manager_secret.deploy_key.secret_id
    _TF_OUTPUTS        = jsonencode(var.ansible)
  }
  filter = "_TEST_TRIGGER == \"${google_cloudbuild_trigger.test.trigger_id}\" && _TEST_STATUS == \"SUCCESS\""

  source_to_build {
    uri       = "https://github.com/${var.github_owner}/${var.github_repo}"
    ref       = "refs/heads/${var.branch}"
    repo_type = "GITHUB"
  }

  git_file_source {
    path      = "cloudbuild-deploy.yaml"
    uri       = "https://github.com/${var.github_owner}/${var.github_repo}"
    revision  = "refs/heads/${var.branch}"
    repo_type = "GITHUB"
  }

  # It runs site.yml as root on every VM and reads every secret: by default a second person decides.
  approval_config {
    approval_required = var.approval_required
  }

  depends_on = [google_pubsub_topic.builds]
}
