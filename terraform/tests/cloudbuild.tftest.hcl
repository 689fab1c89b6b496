# The DAG redeploy trigger and its service account: least privilege, the right repository and branch,
# the deploy key readable by the VM account only, and nothing at all without deploy_trigger.
mock_provider "google" {}

variables {
  project_id   = "acme-data-prod"
  cluster_name = "af"
}

run "no_trigger_by_default" {
  command = plan

  assert {
    condition     = length(module.cloudbuild) == 0 && length(google_project_service.cloudbuild) == 0
    error_message = "Without deploy_trigger nothing of Cloud Build is created."
  }

  assert {
    condition     = output.deploy == null
    error_message = "The deploy output is null without a trigger."
  }
}

run "trigger_with_the_cluster" {
  command = plan

  variables {
    deploy_trigger = {
      github_owner = "acme"
      github_repo  = "airflow-dags"
      repo_url     = "git@github.com:acme/airflow-dags.git"
    }
  }

  assert {
    condition     = output.deploy.deploy_key_secret_id == "af-deploy-key"
    error_message = "The deploy output names the deploy key secret, <cluster_name>-deploy-key."
  }

  assert {
    condition     = length(google_project_service.cloudbuild) == 1
    error_message = "The Cloud Build API is enabled with the trigger."
  }

  assert {
    condition     = output.deploy.approval_required == false
    error_message = "Builds start without approval unless deploy_trigger.approval_required is set."
  }
}

run "trigger_with_approvals" {
  command = plan

  variables {
    deploy_trigger = {
      github_owner      = "acme"
      github_repo       = "airflow-dags"
      repo_url          = "git@github.com:acme/airflow-dags.git"
      approval_required = true
    }
  }

  assert {
    condition     = output.deploy.approval_required == true
    error_message = "deploy_trigger.approval_required holds every build for an approver."
  }
}

run "build_account_least_privilege" {
  command = plan

  module {
    source = "./modules/cloudbuild"
  }

  variables {
    github_owner             = "acme"
    github_repo              = "airflow-dags"
    repo_url                 = "git@github.com:acme/airflow-dags.git"
    vm_service_account_email = "af-vm-sa@acme-data-prod.iam.gserviceaccount.com"
    ansible = {
      project_id      = "acme-data-prod"
      zone            = "europe-west1-b"
      cluster_name    = "af"
      main_vm_name    = "af-main"
      worker_vm_names = ["af-worker-1", "af-worker-2"]
      secret_ids      = { sample_password = "af-sample-password", sample_token = "af-sample-token" }
      log_bucket_url  = "gs://b"
    }
    build_service_account = {
      email  = "af-deploy@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-deploy@acme-data-prod.iam.gserviceaccount.com"
    }
  }

  assert {
    condition     = jsondecode(google_cloudbuild_trigger.deploy.substitutions["_TF_OUTPUTS"]) == var.ansible
    error_message = "_TF_OUTPUTS carries the whole ansible object, unchanged (what the GCP inventory reads)."
  }

  assert {
    condition = (google_cloudbuild_trigger.deploy.github[0].push[0].branch == "^main$"
      && google_cloudbuild_trigger.deploy.github[0].owner == "acme" && google_cloudbuild_trigger.deploy.github[0].name == "airflow-dags"
    && google_cloudbuild_trigger.deploy.filename == "cloudbuild.yaml")
    error_message = "The trigger runs the repository's cloudbuild.yaml on pushes to main only (anchored regex)."
  }

  assert {
    condition = (google_cloudbuild_trigger.deploy.substitutions["_REPO_URL"] == "git@github.com:acme/airflow-dags.git"
    && google_cloudbuild_trigger.deploy.substitutions["_DEPLOY_KEY_SECRET"] == "af-deploy-key")
    error_message = "_REPO_URL is the URL the VMs clone; _DEPLOY_KEY_SECRET names the deploy key secret."
  }

  assert {
    condition = alltrue([for m in google_iap_tunnel_instance_iam_member.build : m.role == "roles/iap.tunnelResourceAccessor"]) && toset(
    [for m in google_iap_tunnel_instance_iam_member.build : m.instance]) == toset(["af-main", "af-worker-1", "af-worker-2"])
    error_message = "IAP tunnel access is granted per cluster VM, nowhere else."
  }

  assert {
    condition = alltrue([for m in google_compute_instance_iam_member.build : m.role == "roles/compute.osAdminLogin"]) && toset(
    [for m in google_compute_instance_iam_member.build : m.instance_name]) == toset(["af-main", "af-worker-1", "af-worker-2"])
    error_message = "OS Login with sudo is granted per cluster VM, nowhere else."
  }

  assert {
    condition     = google_service_account_iam_member.build_acts_as_vm.role == "roles/iam.serviceAccountUser" && endswith(google_service_account_iam_member.build_acts_as_vm.service_account_id, "/af-vm-sa@acme-data-prod.iam.gserviceaccount.com")
    error_message = "The build may act as the VM service account only."
  }

  assert {
    condition     = toset([for m in google_secret_manager_secret_iam_member.build : m.secret_id]) == toset(["af-sample-password", "af-sample-token"])
    error_message = "The build reads the cluster's secrets, per secret (it runs site.yml)."
  }

  assert {
    condition     = google_secret_manager_secret_iam_member.deploy_key_vm.member == "serviceAccount:af-vm-sa@acme-data-prod.iam.gserviceaccount.com" && google_secret_manager_secret_iam_member.deploy_key_vm.secret_id == "af-deploy-key"
    error_message = "Only the VM account reads the deploy key."
  }

  assert {
    condition     = !contains([for m in google_secret_manager_secret_iam_member.build : m.secret_id], "af-deploy-key")
    error_message = "The build account does not read the deploy key."
  }

  assert {
    condition     = google_cloudbuild_trigger.deploy.service_account == "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
    error_message = "Builds run as the build account, not the Cloud Build default account."
  }
}

run "bad_repo_url_is_rejected" {
  command = plan

  module {
    source = "./modules/cloudbuild"
  }

  variables {
    github_owner             = "acme"
    github_repo              = "airflow-dags"
    repo_url                 = "ftp://example.com/repo"
    vm_service_account_email = "af-vm-sa@acme-data-prod.iam.gserviceaccount.com"
    ansible = {
      project_id   = "acme-data-prod", zone = "europe-west1-b", cluster_name = "af",
      main_vm_name = "af-main", worker_vm_names = [], secret_ids = {}
    }
    build_service_account = {
      email  = "af-deploy@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-deploy@acme-data-prod.iam.gserviceaccount.com"
    }
  }

  expect_failures = [var.repo_url]
}

run "ansible_object_must_be_the_roots" {
  command = plan

  module {
    source = "./modules/cloudbuild"
  }

  variables {
    github_owner             = "acme"
    github_repo              = "airflow-dags"
    repo_url                 = "git@github.com:acme/airflow-dags.git"
    vm_service_account_email = "af-vm-sa@acme-data-prod.iam.gserviceaccount.com"
    ansible                  = { project_id = "acme-data-prod" }
    build_service_account = {
      email  = "af-deploy@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-deploy@acme-data-prod.iam.gserviceaccount.com"
    }
  }

  expect_failures = [var.ansible]
}

run "deploy_account_least_privilege" {
  command = plan

  module {
    source = "./modules/iam"
  }

  variables {
    deploy_account = true
  }

  assert {
    condition     = google_service_account.deploy[0].account_id == "af-deploy"
    error_message = "The build has its own account, <cluster_name>-deploy."
  }

  assert {
    condition     = toset([for m in google_project_iam_member.deploy : m.role]) == toset(["roles/logging.logWriter", "roles/compute.viewer"])
    error_message = "Project-level roles of the deploy account: logging.logWriter and compute.viewer only."
  }

  assert {
    condition     = toset([for m in google_project_iam_member.vm : m.role]) == toset(["roles/logging.logWriter", "roles/monitoring.metricWriter"])
    error_message = "The VM account's roles do not change with the deploy account."
  }
}
