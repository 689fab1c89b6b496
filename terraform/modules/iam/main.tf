# The one identity the cluster VMs run as. Project-level grants are limited to writing
# logs and metrics; bucket and secret access are granted on those resources only (see the
# storage and secrets modules).
resource "google_service_account" "vm" {
  project      = var.project_id
  account_id   = "${var.cluster_name}-vm-sa"
  display_name = "Airflow cluster ${var.cluster_name} VMs"
  description  = "Runs the Airflow main and worker VMs of cluster ${var.cluster_name}."
}

resource "google_project_iam_member" "vm" {
  for_each = toset(var.project_roles)

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.vm.email}"
}
