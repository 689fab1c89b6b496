# Remote task logs. Workers upload, the API server reads; the Airflow GCS handler reads an existing object and
# rewrites it, so the VMs' accounts need object create/get/delete on this bucket, and nothing on any other.
# Task code can use its VM's account too (the metadata server answers any process), so it could overwrite or
# delete logs: versioning keeps every overwritten log as a noncurrent version, and soft delete keeps whatever is
# deleted (a live object or a noncurrent version) restorable for soft_delete_days, which no object permission
# can cut short.
resource "google_storage_bucket" "logs" {
  #checkov:skip=CKV_GCP_62:Access logs of a task-log bucket would only log log reads; Cloud Audit Logs (Data Access) cover this where the organisation wants it.
  #checkov:skip=CKV_GCP_63:The bucket has no access-log target at all (see CKV_GCP_62), so it cannot log to itself; the plan scan fails this check for want of a logging block.
  project                     = var.project_id
  name                        = "${var.project_id}-${var.cluster_name}-task-logs"
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy
  labels                      = var.labels

  # Log uploads rewrite objects; versioning keeps the previous copy for a short while.
  versioning {
    enabled = true
  }

  soft_delete_policy {
    retention_duration_seconds = var.soft_delete_days * 86400
  }

  lifecycle_rule {
    condition {
      age = var.retention_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_retention_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }
}

# Each VM kind's account, on this bucket only. objectUser: create, read, overwrite and delete objects, no say
# over their access (objectAdmin's setIamPolicy). Edge workers upload their task logs themselves (the edge worker
# process writes each finished task's log), so their account needs the same.
resource "google_storage_bucket_iam_member" "writer" {
  for_each = var.writers

  bucket = google_storage_bucket.logs.name
  role   = "roles/storage.objectUser"
  member = each.value
}
