# The identity of the Airflow Edge worker VMs (apache-airflow-providers-edge3), created here with the kit's
# other project-level grants. Only with edge_account = true (edge_worker_count > 0 in the root).
# An edge worker talks to the API server only: it has no Redis, no metadata database and no Secret Manager
# access, so its account gets no secret grant at all, and at project level only what the Ops Agent writes
# with:
#   logging.logWriter      the VM's journal and agent logs to Cloud Logging
#   monitoring.metricWriter host and Prometheus metrics
# Its one resource grant, on the task-log bucket, is made in ../storage (writers["edge"]).
variable "edge_account" {
  description = "Create the service account the Edge worker VMs run as (<cluster_name>-edge-sa), with its two project roles."
  type        = bool
  default     = false
}

locals {
  edge_project_roles = ["roles/logging.logWriter", "roles/monitoring.metricWriter"]
}

resource "google_service_account" "edge" {
  count = var.edge_account ? 1 : 0

  project      = var.project_id
  account_id   = "${var.cluster_name}-edge-sa"
  display_name = "Airflow cluster ${var.cluster_name} Edge workers"
  description  = "Runs the Airflow Edge worker VMs of cluster ${var.cluster_name}: API server access only, no secrets."
}

resource "google_project_iam_member" "edge" {
  for_each = var.edge_account ? toset(local.edge_project_roles) : toset([])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.edge[0].email}"
}

output "edge_service_account" {
  description = "The Edge worker account (email, id, member), or null without edge_account."
  value = var.edge_account ? {
    email  = google_service_account.edge[0].email
    id     = google_service_account.edge[0].id
    member = "serviceAccount:${google_service_account.edge[0].email}"
  } : null
}

# Edge workers outside Google Cloud (the root's edge_tunnel_members): `gcloud compute start-iap-tunnel` looks
# the main VM up (compute.instances.get) before it opens the tunnel, so each such principal reads Compute Engine
# resources of the project, as the deploy builds' account does (deploy.tf). The tunnel itself is granted on
# the main VM, to the API port only (../vms).
variable "edge_tunnel_members" {
  description = "IAM principals of Edge workers outside Google Cloud; each gets roles/compute.viewer on the project."
  type        = list(string)
  default     = []
}

resource "google_project_iam_member" "edge_tunnel" {
  for_each = toset(var.edge_tunnel_members)

  project = var.project_id
  role    = "roles/compute.viewer"
  member  = each.value
}
