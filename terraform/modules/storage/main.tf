# Remote task logs. Workers upload, the API server reads; the Airflow GCS handler reads an
# existing object and rewrites it, so the VM account needs object create/get/delete on this
# bucket, and nothing on any other.
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

resource "google_storage_bucket_iam_member" "writer" {
  bucket = google_storage_bucket.logs.name
  role   = "roles/storage.objectAdmin"
  member = var.writer_member
}

# Other accounts that write task logs, each on this bucket only: the Edge workers' account (key "edge").
# Edge workers upload their task logs themselves: with remote logging configured, the edge worker process
# writes each finished task's log to the bucket (the API server then serves it from there), so their account
# needs the same object create/get/delete as the VM account, and nothing else of the cluster.
resource "google_storage_bucket_iam_member" "extra_writer" {
  for_each = var.extra_writers

  bucket = google_storage_bucket.logs.name
  role   = "roles/storage.objectAdmin"
  member = each.value
}
