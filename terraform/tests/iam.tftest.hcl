# Least privilege of the VM account: two project roles and nothing else at project level.
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
