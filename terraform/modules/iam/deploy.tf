# The accounts of the two builds of a push (../cloudbuild, ../../cloudbuild.tf), created here because every
# project-level grant of the kit lives in this module. Only with deploy_account = true.
# The DAG-test builds import the DAG files, code anyone who can push wrote: their account writes build logs and
# nothing else (no VM, no secret, no compute.viewer).
resource "google_service_account" "dag_test" {
  count = var.deploy_account ? 1 : 0

  project      = var.project_id
  account_id   = "${var.cluster_name}-dag-tests"
  display_name = "Airflow cluster ${var.cluster_name} DAG tests"
  description  = "Runs the Cloud Build DAG tests of cluster ${var.cluster_name}: build logs only."
}

resource "google_project_iam_member" "dag_test" {
  count = var.deploy_account ? 1 : 0

  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.dag_test[0].email}"
}

output "dag_test_service_account" {
  description = "The DAG-test builds' account (email, id, member), or null without deploy_account."
  value = var.deploy_account ? {
    email  = google_service_account.dag_test[0].email
    id     = google_service_account.dag_test[0].id
    member = "serviceAccount:${google_service_account.dag_test[0].email}"
  } : null
}

# The deploy builds' account.
#   logging.logWriter  build logs (cloudbuild.yaml logs to Cloud Logging only)
#   compute.viewer     gcloud compute start-iap-tunnel looks each VM up (its zone and network interface)
# Per-VM (IAP tunnel, OS Login with sudo), service-account-user and per-secret grants are in ../cloudbuild.
variable "deploy_account" {
  description = "Create the service accounts the Cloud Build DAG-test and redeploy triggers run as, with their project roles."
  type        = bool
  default     = false
}

resource "google_service_account" "deploy" {
  count = var.deploy_account ? 1 : 0

  project      = var.project_id
  account_id   = "${var.cluster_name}-deploy"
  display_name = "Airflow cluster ${var.cluster_name} deploys"
  description  = "Runs the Cloud Build trigger that tests and redeploys the DAGs of cluster ${var.cluster_name}."
}

resource "google_project_iam_member" "deploy" {
  for_each = var.deploy_account ? toset(["roles/logging.logWriter", "roles/compute.viewer"]) : toset([])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.deploy[0].email}"
}

output "deploy_service_account" {
  description = "The deploy account (email, id, member), or null without deploy_account."
  value = var.deploy_account ? {
    email  = google_service_account.deploy[0].email
    id     = google_service_account.deploy[0].id
    member = "serviceAccount:${google_service_account.deploy[0].email}"
  } : null
}
