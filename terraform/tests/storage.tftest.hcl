# Task-log bucket: private, uniform access, lifecycle, soft delete, and a bucket-level objectUser grant to each
# VM kind's account (never objectAdmin: the writers have no say over the bucket's access).
mock_provider "google" {}

variables {
  project_id                = "acme-data-prod"
  cluster_name              = "af"
  location                  = "europe-west1"
  retention_days            = 30
  noncurrent_retention_days = 7
  writers = {
    main   = "serviceAccount:af-main-sa@acme-data-prod.iam.gserviceaccount.com"
    worker = "serviceAccount:af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
  }
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
    condition     = one(google_storage_bucket.logs.soft_delete_policy).retention_duration_seconds == 7 * 86400
    error_message = "Soft delete keeps deleted logs for 7 days by default."
  }
}

run "each_writer_gets_object_user_on_this_bucket_only" {
  command = plan

  module {
    source = "./modules/storage"
  }

  assert {
    condition = {
      for k, m in google_storage_bucket_iam_member.writer : k => [m.role, m.member, m.bucket]
      } == {
      main   = ["roles/storage.objectUser", "serviceAccount:af-main-sa@acme-data-prod.iam.gserviceaccount.com", "acme-data-prod-af-task-logs"]
      worker = ["roles/storage.objectUser", "serviceAccount:af-worker-sa@acme-data-prod.iam.gserviceaccount.com", "acme-data-prod-af-task-logs"]
    }
    error_message = "The main and worker accounts each get roles/storage.objectUser on the task-log bucket, one binding each."
  }

  assert {
    condition     = length([for m in google_storage_bucket_iam_member.writer : m if m.role == "roles/storage.objectAdmin"]) == 0
    error_message = "No writer gets objectAdmin (object IAM policies and object retention settings: more than writing logs needs)."
  }
}

run "soft_delete_days_configured" {
  command = plan

  module {
    source = "./modules/storage"
  }

  variables {
    soft_delete_days = 90
  }

  assert {
    condition     = one(google_storage_bucket.logs.soft_delete_policy).retention_duration_seconds == 7776000
    error_message = "soft_delete_days = 90 (the upper bound) keeps deleted or overwritten logs for 90 days (7776000 s)."
  }
}

run "soft_delete_days_6_is_rejected" {
  command = plan

  module {
    source = "./modules/storage"
  }

  variables {
    soft_delete_days = 6
  }

  expect_failures = [var.soft_delete_days]
}

run "soft_delete_days_91_is_rejected" {
  command = plan

  module {
    source = "./modules/storage"
  }

  variables {
    soft_delete_days = 91
  }

  expect_failures = [var.soft_delete_days]
}

run "no_writer_is_rejected" {
  command = plan

  module {
    source = "./modules/storage"
  }

  variables {
    writers = {}
  }

  expect_failures = [var.writers]
}
