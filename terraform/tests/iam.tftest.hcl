# Least privilege of the VMs' accounts: one account per kind of VM (main, worker), each with two project roles
# and nothing else at project level; an all-in-one cluster has the main VM's account only.
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
    error_message = "The VM accounts' project-level roles are logging.logWriter and monitoring.metricWriter only."
  }

  assert {
    condition     = google_service_account.vm["main"].account_id == "af-main-sa" && google_service_account.vm["worker"].account_id == "af-worker-sa"
    error_message = "The account ids are <cluster_name>-main-sa and <cluster_name>-worker-sa."
  }
}

# apply (mocked): the accounts' emails, which the grants name, exist only once the accounts do; the mock gives
# each account its own email, so a grant made to the wrong account fails here.
run "one_account_per_vm_kind_each_with_two_roles" {
  command = apply

  module {
    source = "./modules/iam"
  }

  variables {
    project_id   = "acme-data-prod"
    cluster_name = "etl-eu"
  }

  assert {
    condition = (
      keys(google_service_account.vm) == ["main", "worker"]
      && google_service_account.vm["main"].account_id == "etl-eu-main-sa"
      && google_service_account.vm["worker"].account_id == "etl-eu-worker-sa"
      && google_service_account.vm["main"].email != google_service_account.vm["worker"].email
    )
    error_message = "The main and worker VMs get two different accounts, <cluster_name>-main-sa and <cluster_name>-worker-sa."
  }

  assert {
    condition = alltrue([for kind in ["main", "worker"] :
      sort([for m in google_project_iam_member.vm : m.role if m.member == "serviceAccount:${google_service_account.vm[kind].email}"])
      == sort(["roles/logging.logWriter", "roles/monitoring.metricWriter"])
    ])
    error_message = "Each VM account holds exactly logging.logWriter and monitoring.metricWriter at project level."
  }

  assert {
    condition     = length(google_project_iam_member.vm) == 4 && alltrue([for m in google_project_iam_member.vm : m.project == "acme-data-prod"])
    error_message = "Four project grants in all (two per account), on the cluster's project."
  }

  assert {
    condition = output.vm_service_accounts == {
      for kind, account in google_service_account.vm : kind => { email = account.email, member = "serviceAccount:${account.email}" }
    }
    error_message = "vm_service_accounts hands out each kind's own email and member."
  }
}

run "all_in_one_has_no_worker_account" {
  command = apply

  module {
    source = "./modules/iam"
  }

  variables {
    project_id     = "acme-data-prod"
    cluster_name   = "af"
    worker_account = false
  }

  assert {
    condition     = keys(google_service_account.vm) == ["main"] && google_service_account.vm["main"].account_id == "af-main-sa"
    error_message = "Without worker VMs only the main VM's account exists."
  }

  assert {
    condition = (
      toset(keys(google_project_iam_member.vm)) == toset(["main/roles/logging.logWriter", "main/roles/monitoring.metricWriter"])
      && alltrue([for m in google_project_iam_member.vm : m.member == "serviceAccount:${google_service_account.vm["main"].email}"])
    )
    error_message = "Without worker VMs the project grants are the main account's two."
  }

  assert {
    condition     = keys(output.vm_service_accounts) == ["main"]
    error_message = "vm_service_accounts has no worker key without worker VMs."
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
