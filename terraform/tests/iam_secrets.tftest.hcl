# Least privilege of the VM account: two project roles, per-secret access, nothing else.
mock_provider "google" {}

run "project_roles_are_only_log_and_metric_writers" {
  command = plan

  module {
    source = "./modules/iam"
  }

  variables {
    project_id   = "acme-data-prod"
    cluster_name = "af"
  }

  assert {
    condition     = toset([for m in google_project_iam_member.vm : m.role]) == toset(["roles/logging.logWriter", "roles/monitoring.metricWriter"])
    error_message = "The VM account's project-level roles are logging.logWriter and monitoring.metricWriter only."
  }

  assert {
    condition     = google_service_account.vm.account_id == "af-vm-sa"
    error_message = "The account id is <cluster_name>-vm-sa."
  }
}

run "project_wide_storage_role_is_rejected" {
  command = plan

  module {
    source = "./modules/iam"
  }

  variables {
    project_id    = "acme-data-prod"
    cluster_name  = "af"
    project_roles = ["roles/logging.logWriter", "roles/storage.objectAdmin"]
  }

  expect_failures = [var.project_roles]
}

run "primitive_role_is_rejected" {
  command = plan

  module {
    source = "./modules/iam"
  }

  variables {
    project_id    = "acme-data-prod"
    cluster_name  = "af"
    project_roles = ["roles/editor"]
  }

  expect_failures = [var.project_roles]
}

run "secrets_per_secret_access" {
  command = plan

  module {
    source = "./modules/secrets"
  }

  variables {
    project_id      = "acme-data-prod"
    cluster_name    = "af"
    accessor_member = "serviceAccount:af-vm-sa@acme-data-prod.iam.gserviceaccount.com"
  }

  assert {
    condition = toset([for s in google_secret_manager_secret.this : s.secret_id]) == toset([
      "af-db-password", "af-fernet-key", "af-jwt-secret", "af-api-secret-key",
      "af-redis-password", "af-admin-password", "af-flower-password",
    ])
    error_message = "Exactly the seven secret ids the Ansible side reads."
  }

  assert {
    condition = alltrue([for name, b in google_secret_manager_secret_iam_member.accessor :
      b.role == "roles/secretmanager.secretAccessor"
      && b.secret_id == "af-${name}"
      && b.member == "serviceAccount:af-vm-sa@acme-data-prod.iam.gserviceaccount.com"
    ]) && length(google_secret_manager_secret_iam_member.accessor) == 7
    error_message = "The VM account reads each cluster secret through a grant on that secret."
  }

  assert {
    condition     = alltrue([for s in google_secret_manager_secret.this : length(s.replication[0].auto) == 1])
    error_message = "Secrets use automatic replication."
  }

  assert {
    condition     = length(google_secret_manager_secret_version.this) == 7
    error_message = "Each secret gets a generated version."
  }
}
