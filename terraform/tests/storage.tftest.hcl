# Task-log bucket: private, uniform access, lifecycle, bucket-level grant only.
mock_provider "google" {}

variables {
  project_id                = "acme-data-prod"
  cluster_name              = "af"
  location                  = "europe-west1"
  retention_days            = 30
  noncurrent_retention_days = 7
  writer_member             = "serviceAccount:af-vm-sa@acme-data-prod.iam.gserviceaccount.com"
}

run "private_bucket" {
  command = plan

  module {
    source = "./modules/storage"
  }

  assert {
    condition     = google_storage_bucket.logs.public_access_prevention == "enforced"
    error_message = "Public access prevention must be enforced."
  }

  assert {
    condition     = google_storage_bucket.logs.uniform_bucket_level_access
    error_message = "Uniform bucket-level access must be on (no object ACLs)."
  }

  assert {
    condition     = google_storage_bucket.logs.force_destroy == false
    error_message = "force_destroy is off by default."
  }

  assert {
    condition = anytrue([for r in google_storage_bucket.logs.lifecycle_rule :
      one(r.action).type == "Delete" && one(r.condition).age == 30
    ])
    error_message = "Objects are deleted after log_retention_days."
  }

  assert {
    condition     = google_storage_bucket.logs.versioning[0].enabled
    error_message = "Versioning keeps the previous copy of a rewritten log."
  }

  assert {
    condition = (
      google_storage_bucket_iam_member.writer.role == "roles/storage.objectAdmin"
      && google_storage_bucket_iam_member.writer.member == "serviceAccount:af-vm-sa@acme-data-prod.iam.gserviceaccount.com"
      && google_storage_bucket_iam_member.writer.bucket == "acme-data-prod-af-task-logs"
    )
    error_message = "The VM account gets objectAdmin on this bucket only."
  }
}
