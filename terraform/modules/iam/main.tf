# The identities the cluster's VMs run as, one per kind of VM, so that each holds only what its VMs need:
#   main    the main VM (scheduler, API server, triggerer, DAG processor; on an all-in-one VM its tasks too)
#   worker  the Celery worker VMs: what the tasks of your DAGs run as on GCP (grant your DAGs' own needs, such
#           as BigQuery or a data bucket, to this account only)
# Project-level grants are limited to writing logs and metrics; the task-log bucket is granted on the bucket
# (../storage). Neither account reads a cluster secret: site.yml reads them with the operator's credentials.
locals {
  vm_accounts = merge(
    { main = "main VM" },
    var.worker_account ? { worker = "Celery worker VMs" } : {},
  )
  vm_account_roles = {
    for pair in setproduct(keys(local.vm_accounts), var.project_roles) : "${pair[0]}/${pair[1]}" => {
      account = pair[0]
      role    = pair[1]
    }
  }
}

resource "google_service_account" "vm" {
  for_each = local.vm_accounts

  project      = var.project_id
  account_id   = "${var.cluster_name}-${each.key}-sa"
  display_name = "Airflow cluster ${var.cluster_name} ${each.value}"
  description  = "Runs the ${each.value} of Airflow cluster ${var.cluster_name}."
}

resource "google_project_iam_member" "vm" {
  for_each = local.vm_account_roles

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.vm[each.value.account].email}"
}
