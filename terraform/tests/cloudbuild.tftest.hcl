# The DAG triggers and their accounts: a push runs the DAG tests as an account that can write build logs and
# nothing else; their success (Cloud Build's notice on the cloud-builds topic) starts the deploy, as the deploy
# account, held for an approver by default. Least privilege, the right repository, branch and build files, the
# deploy key readable by the Airflow VMs' accounts only, and nothing at all without deploy_trigger.
mock_provider "google" {}

variables {
  project_id   = "acme-data-prod"
  cluster_name = "af"
}

# --- the root ----------------------------------------------------------------------------------------------
run "no_trigger_by_default" {
  command = plan

  assert {
    condition     = length(module.cloudbuild) == 0 && length(google_project_service.cloudbuild) == 0
    error_message = "Without deploy_trigger nothing of Cloud Build is created."
  }

  assert {
    condition     = output.deploy == null && module.iam.dag_test_service_account == null && module.iam.deploy_service_account == null
    error_message = "The deploy output is null without a trigger, and neither build account exists."
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

  # The accounts' emails and the triggers' ids exist only after an apply: distinctive values, known at plan.
  override_resource {
    target          = module.iam.google_service_account.dag_test[0]
    override_during = plan
    values          = { email = "af-dag-tests@acme-data-prod.iam.gserviceaccount.com" }
  }

  override_resource {
    target          = module.iam.google_service_account.deploy[0]
    override_during = plan
    values          = { email = "af-deploy@acme-data-prod.iam.gserviceaccount.com" }
  }

  override_resource {
    target          = module.cloudbuild[0].google_cloudbuild_trigger.test
    override_during = plan
    values          = { trigger_id = "7e57-0000-dag-tests" }
  }

  override_resource {
    target          = module.cloudbuild[0].google_cloudbuild_trigger.deploy
    override_during = plan
    values          = { trigger_id = "de91-0000-deploy" }
  }

  assert {
    condition     = output.deploy.deploy_key_secret_id == "af-deploy-key"
    error_message = "The deploy output names the deploy key secret, <cluster_name>-deploy-key."
  }

  assert {
    condition     = toset(keys(google_project_service.cloudbuild)) == toset(["cloudbuild.googleapis.com", "pubsub.googleapis.com"])
    error_message = "The Cloud Build and Pub/Sub APIs are enabled with the trigger (the deploy listens on a Pub/Sub topic)."
  }

  assert {
    condition     = output.deploy.approval_required == true
    error_message = "Deploy builds wait for an approver unless deploy_trigger.approval_required is false."
  }

  assert {
    condition = (
      output.deploy.dag_test_service_account_email == "af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      && output.deploy.build_service_account_email == "af-deploy@acme-data-prod.iam.gserviceaccount.com"
    )
    error_message = "The deploy output names the DAG-test builds' account and the deploy builds' account, each its own."
  }

  assert {
    condition     = output.deploy.test_trigger_id == "7e57-0000-dag-tests" && output.deploy.trigger_id == "de91-0000-deploy"
    error_message = "The deploy output names the DAG-test trigger (test_trigger_id) and the deploy trigger (trigger_id), each its own."
  }
}

run "trigger_without_approvals" {
  command = plan

  variables {
    deploy_trigger = {
      github_owner      = "acme"
      github_repo       = "airflow-dags"
      repo_url          = "git@github.com:acme/airflow-dags.git"
      approval_required = false
    }
  }

  assert {
    condition     = output.deploy.approval_required == false
    error_message = "deploy_trigger.approval_required = false deploys every tested push unattended."
  }
}

# --- modules/cloudbuild ----------------------------------------------------------------------------------------
run "build_account_least_privilege" {
  command = plan

  module {
    source = "./modules/cloudbuild"
  }

  variables {
    github_owner = "acme"
    github_repo  = "airflow-dags"
    repo_url     = "git@github.com:acme/airflow-dags.git"
    vm_service_account_emails = {
      main   = "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
      worker = "af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
    }
    ansible = {
      project_id      = "acme-data-prod"
      zone            = "europe-west1-b"
      cluster_name    = "af"
      main_vm_name    = "af-main"
      worker_vm_names = ["af-worker-1", "af-worker-2"]
      secret_ids      = { sample_password = "af-sample-password", sample_token = "af-sample-token" }
      log_bucket_url  = "gs://b"
    }
    test_service_account = {
      email  = "af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
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
    condition = (google_cloudbuild_trigger.deploy.substitutions["_REPO_URL"] == "git@github.com:acme/airflow-dags.git"
    && google_cloudbuild_trigger.deploy.substitutions["_DEPLOY_KEY_SECRET"] == "af-deploy-key")
    error_message = "_REPO_URL is the URL the VMs clone; _DEPLOY_KEY_SECRET names the deploy key secret."
  }

  assert {
    condition = alltrue([for m in google_iap_tunnel_instance_iam_member.build : m.role == "roles/iap.tunnelResourceAccessor" && m.member == var.build_service_account.member]) && toset(
    [for m in google_iap_tunnel_instance_iam_member.build : m.instance]) == toset(["af-main", "af-worker-1", "af-worker-2"])
    error_message = "IAP tunnel access is granted to the deploy account per cluster VM, nowhere else."
  }

  assert {
    condition = alltrue([for m in google_compute_instance_iam_member.build : m.role == "roles/compute.osAdminLogin" && m.member == var.build_service_account.member]) && toset(
    [for m in google_compute_instance_iam_member.build : m.instance_name]) == toset(["af-main", "af-worker-1", "af-worker-2"])
    error_message = "OS Login with sudo is granted to the deploy account per cluster VM, nowhere else."
  }

  assert {
    condition = (
      toset([for m in google_service_account_iam_member.build_acts_as_vm : m.service_account_id]) == toset([
        "projects/acme-data-prod/serviceAccounts/af-main-sa@acme-data-prod.iam.gserviceaccount.com",
        "projects/acme-data-prod/serviceAccounts/af-worker-sa@acme-data-prod.iam.gserviceaccount.com",
      ])
      && alltrue([for m in google_service_account_iam_member.build_acts_as_vm :
      m.role == "roles/iam.serviceAccountUser" && m.member == "serviceAccount:af-deploy@acme-data-prod.iam.gserviceaccount.com"])
    )
    error_message = "The deploy account may act as the main and the worker VM accounts (OS Login on VMs that run as them), and as no other."
  }

  assert {
    condition     = toset([for m in google_secret_manager_secret_iam_member.build : m.secret_id]) == toset(["af-sample-password", "af-sample-token"])
    error_message = "The deploy account reads the cluster's secrets, per secret (it runs site.yml)."
  }

  assert {
    condition = (
      toset([for m in google_secret_manager_secret_iam_member.deploy_key_vm : m.member]) == toset([
        "serviceAccount:af-main-sa@acme-data-prod.iam.gserviceaccount.com",
        "serviceAccount:af-worker-sa@acme-data-prod.iam.gserviceaccount.com",
      ])
      && alltrue([for m in google_secret_manager_secret_iam_member.deploy_key_vm : m.secret_id == "af-deploy-key" && m.role == "roles/secretmanager.secretAccessor"])
    )
    error_message = "The main and worker VM accounts, and they only, read the deploy key."
  }

  assert {
    condition     = !contains([for m in google_secret_manager_secret_iam_member.build : m.secret_id], "af-deploy-key")
    error_message = "The deploy account does not read the deploy key."
  }

  assert {
    condition     = google_cloudbuild_trigger.deploy.service_account == "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
    error_message = "Deploy builds run as the deploy account, not the Cloud Build default account."
  }
}

run "all_in_one_deploy_grants" {
  command = plan

  module {
    source = "./modules/cloudbuild"
  }

  variables {
    github_owner              = "acme"
    github_repo               = "airflow-dags"
    repo_url                  = "git@github.com:acme/airflow-dags.git"
    vm_service_account_emails = { main = "af-main-sa@acme-data-prod.iam.gserviceaccount.com" }
    ansible = {
      project_id   = "acme-data-prod", zone = "europe-west1-b", cluster_name = "af",
      main_vm_name = "af-main", worker_vm_names = [], secret_ids = { sample_password = "af-sample-password" }
    }
    test_service_account = {
      email  = "af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
    }
    build_service_account = {
      email  = "af-deploy@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-deploy@acme-data-prod.iam.gserviceaccount.com"
    }
  }

  assert {
    condition = (
      [for m in google_service_account_iam_member.build_acts_as_vm : m.service_account_id] == ["projects/acme-data-prod/serviceAccounts/af-main-sa@acme-data-prod.iam.gserviceaccount.com"]
      && [for m in google_secret_manager_secret_iam_member.deploy_key_vm : m.member] == ["serviceAccount:af-main-sa@acme-data-prod.iam.gserviceaccount.com"]
    )
    error_message = "An all-in-one cluster: the deploy account acts as the main VM account only, which alone reads the deploy key."
  }
}

# apply (mocked): the deploy trigger's filter names the test trigger's id, which exists only once that trigger
# does; the override gives it a distinctive one. Branch release: nothing here is the default's "main".
run "test_and_deploy_triggers" {
  command = apply

  module {
    source = "./modules/cloudbuild"
  }

  variables {
    github_owner = "acme"
    github_repo  = "airflow-dags"
    branch       = "release"
    repo_url     = "git@github.com:acme/airflow-dags.git"
    vm_service_account_emails = {
      main   = "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
      worker = "af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
    }
    ansible = {
      project_id      = "acme-data-prod"
      zone            = "europe-west1-b"
      cluster_name    = "af"
      main_vm_name    = "af-main"
      worker_vm_names = ["af-worker-1"]
      edge_vm_names   = ["af-edge-1"]
      secret_ids      = { sample_password = "af-sample-password" }
    }
    edge_service_account_email = "af-edge-sa@acme-data-prod.iam.gserviceaccount.com"
    test_service_account = {
      email  = "af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
    }
    build_service_account = {
      email  = "af-deploy@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-deploy@acme-data-prod.iam.gserviceaccount.com"
    }
  }

  override_resource {
    target = google_cloudbuild_trigger.test
    values = { trigger_id = "7e57-0000-dag-tests" }
  }

  # The test trigger: a push to the branch runs cloudbuild.yaml as the DAG-test account, at once.
  assert {
    condition = (
      google_cloudbuild_trigger.test.name == "af-test-dags"
      && google_cloudbuild_trigger.test.service_account == "projects/acme-data-prod/serviceAccounts/af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      && google_cloudbuild_trigger.test.filename == "cloudbuild.yaml"
      && google_cloudbuild_trigger.test.github[0].owner == "acme" && google_cloudbuild_trigger.test.github[0].name == "airflow-dags"
      && google_cloudbuild_trigger.test.github[0].push[0].branch == "^release$"
      && length(google_cloudbuild_trigger.test.pubsub_config) == 0
    )
    error_message = "The test trigger runs cloudbuild.yaml as the DAG-test account on pushes to the branch only (anchored regex)."
  }

  assert {
    condition     = length(google_cloudbuild_trigger.test.approval_config) == 0
    error_message = "The DAG tests need no approval: they can do nothing."
  }

  assert {
    condition     = google_cloudbuild_trigger.test.substitutions == null
    error_message = "The DAG-test builds get none of the deploy's substitutions (no _TF_OUTPUTS, no deploy key secret)."
  }

  # The DAG-test account gets nothing in this module: no VM, tunnel, service-account-user or secret grant.
  assert {
    condition = !contains(flatten([
      [for m in google_iap_tunnel_instance_iam_member.build : m.member],
      [for m in google_compute_instance_iam_member.build : m.member],
      [for m in google_service_account_iam_member.build_acts_as_vm : m.member],
      [for m in google_service_account_iam_member.build_acts_as_edge : m.member],
      [for m in google_secret_manager_secret_iam_member.build : m.member],
      [for m in google_secret_manager_secret_iam_member.deploy_key_vm : m.member],
    ]), "serviceAccount:af-dag-tests@acme-data-prod.iam.gserviceaccount.com")
    error_message = "The DAG-test account has no IAP tunnel, OS Login, serviceAccountUser or secret grant."
  }

  # The deploy trigger: Cloud Build's notice of a successful test build runs cloudbuild-deploy.yaml as the deploy
  # account, held for an approver.
  assert {
    condition = (
      google_cloudbuild_trigger.deploy.name == "af-deploy-dags"
      && google_cloudbuild_trigger.deploy.service_account == "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
      && google_cloudbuild_trigger.deploy.pubsub_config[0].topic == "projects/acme-data-prod/topics/cloud-builds"
      && length(google_cloudbuild_trigger.deploy.github) == 0
    )
    error_message = "The deploy trigger runs as the deploy account and listens on the project's cloud-builds topic, not on pushes."
  }

  assert {
    condition     = google_cloudbuild_trigger.deploy.filter == "_TEST_TRIGGER == \"7e57-0000-dag-tests\" && _TEST_STATUS == \"SUCCESS\""
    error_message = "Only a SUCCESS of the test trigger starts a deploy."
  }

  assert {
    condition = (
      google_cloudbuild_trigger.deploy.substitutions["_TEST_TRIGGER"] == "$(body.message.data.buildTriggerId)"
      && google_cloudbuild_trigger.deploy.substitutions["_TEST_STATUS"] == "$(body.message.data.status)"
      && google_cloudbuild_trigger.deploy.substitutions["_COMMIT"] == "$(body.message.data.substitutions.COMMIT_SHA)"
    )
    error_message = "The filter's trigger id and status, and the commit deployed, come from the finished build's notice."
  }

  assert {
    condition = (
      google_cloudbuild_trigger.deploy.git_file_source[0].path == "cloudbuild-deploy.yaml"
      && google_cloudbuild_trigger.deploy.git_file_source[0].uri == "https://github.com/acme/airflow-dags"
      && google_cloudbuild_trigger.deploy.git_file_source[0].revision == "refs/heads/release"
      && google_cloudbuild_trigger.deploy.git_file_source[0].repo_type == "GITHUB"
      && google_cloudbuild_trigger.deploy.source_to_build[0].uri == "https://github.com/acme/airflow-dags"
      && google_cloudbuild_trigger.deploy.source_to_build[0].ref == "refs/heads/release"
      && google_cloudbuild_trigger.deploy.source_to_build[0].repo_type == "GITHUB"
      && google_cloudbuild_trigger.deploy.filename == null
    )
    error_message = "The deploy trigger reads cloudbuild-deploy.yaml of the branch, and builds the branch's source."
  }

  assert {
    condition     = google_cloudbuild_trigger.deploy.approval_config[0].approval_required == true && output.approval_required == true
    error_message = "Deploy builds wait for an approver by default."
  }

  assert {
    condition     = output.test_trigger_id == "7e57-0000-dag-tests" && output.trigger_id == google_cloudbuild_trigger.deploy.trigger_id && output.trigger_id != output.test_trigger_id
    error_message = "test_trigger_id is the test trigger's id, trigger_id the deploy trigger's."
  }

  assert {
    condition     = length(google_pubsub_topic.builds) == 1 && google_pubsub_topic.builds[0].name == "cloud-builds" && google_pubsub_topic.builds[0].project == "acme-data-prod"
    error_message = "By default the module creates the project's cloud-builds topic."
  }
}

run "deploy_unattended_and_existing_topic" {
  command = plan

  module {
    source = "./modules/cloudbuild"
  }

  variables {
    github_owner              = "acme"
    github_repo               = "airflow-dags"
    repo_url                  = "git@github.com:acme/airflow-dags.git"
    approval_required         = false
    create_build_topic        = false
    vm_service_account_emails = { main = "af-main-sa@acme-data-prod.iam.gserviceaccount.com" }
    ansible = {
      project_id   = "acme-data-prod", zone = "europe-west1-b", cluster_name = "af",
      main_vm_name = "af-main", worker_vm_names = [], secret_ids = {}
    }
    test_service_account = {
      email  = "af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
    }
    build_service_account = {
      email  = "af-deploy@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-deploy@acme-data-prod.iam.gserviceaccount.com"
    }
  }

  assert {
    condition     = google_cloudbuild_trigger.deploy.approval_config[0].approval_required == false && output.approval_required == false
    error_message = "approval_required = false deploys every tested push without an approver."
  }

  assert {
    condition     = length(google_pubsub_topic.builds) == 0
    error_message = "create_build_topic = false creates no topic (the project has its cloud-builds topic already)."
  }

  assert {
    condition     = google_cloudbuild_trigger.deploy.pubsub_config[0].topic == "projects/acme-data-prod/topics/cloud-builds"
    error_message = "The deploy trigger listens on the existing cloud-builds topic."
  }
}

run "main_vm_account_is_required" {
  command = plan

  module {
    source = "./modules/cloudbuild"
  }

  variables {
    github_owner              = "acme"
    github_repo               = "airflow-dags"
    repo_url                  = "git@github.com:acme/airflow-dags.git"
    vm_service_account_emails = { worker = "af-worker-sa@acme-data-prod.iam.gserviceaccount.com" }
    ansible = {
      project_id   = "acme-data-prod", zone = "europe-west1-b", cluster_name = "af",
      main_vm_name = "af-main", worker_vm_names = ["af-worker-1"], secret_ids = {}
    }
    test_service_account = {
      email  = "af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
    }
    build_service_account = {
      email  = "af-deploy@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-deploy@acme-data-prod.iam.gserviceaccount.com"
    }
  }

  expect_failures = [var.vm_service_account_emails]
}

run "bad_repo_url_is_rejected" {
  command = plan

  module {
    source = "./modules/cloudbuild"
  }

  variables {
    github_owner              = "acme"
    github_repo               = "airflow-dags"
    repo_url                  = "ftp://example.com/repo"
    vm_service_account_emails = { main = "af-main-sa@acme-data-prod.iam.gserviceaccount.com" }
    ansible = {
      project_id   = "acme-data-prod", zone = "europe-west1-b", cluster_name = "af",
      main_vm_name = "af-main", worker_vm_names = [], secret_ids = {}
    }
    test_service_account = {
      email  = "af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
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
    github_owner              = "acme"
    github_repo               = "airflow-dags"
    repo_url                  = "git@github.com:acme/airflow-dags.git"
    vm_service_account_emails = { main = "af-main-sa@acme-data-prod.iam.gserviceaccount.com" }
    ansible                   = { project_id = "acme-data-prod" }
    test_service_account = {
      email  = "af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-dag-tests@acme-data-prod.iam.gserviceaccount.com"
    }
    build_service_account = {
      email  = "af-deploy@acme-data-prod.iam.gserviceaccount.com"
      id     = "projects/acme-data-prod/serviceAccounts/af-deploy@acme-data-prod.iam.gserviceaccount.com"
      member = "serviceAccount:af-deploy@acme-data-prod.iam.gserviceaccount.com"
    }
  }

  expect_failures = [var.ansible]
}

# --- modules/iam: the two build accounts ------------------------------------------------------------------------
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
    error_message = "The deploy builds have their own account, <cluster_name>-deploy."
  }

  assert {
    condition     = toset([for m in google_project_iam_member.deploy : m.role]) == toset(["roles/logging.logWriter", "roles/compute.viewer"])
    error_message = "Project-level roles of the deploy account: logging.logWriter and compute.viewer only."
  }

  assert {
    condition     = toset([for m in google_project_iam_member.vm : m.role]) == toset(["roles/logging.logWriter", "roles/monitoring.metricWriter"])
    error_message = "The VM accounts' roles do not change with the build accounts."
  }
}

# apply (mocked): every account gets its own email, so a project grant that names the DAG-test account is told
# apart from the others'. Edge workers and an outside tunnel member too: every project grant of the module exists.
run "dag_test_account_writes_logs_only" {
  command = apply

  module {
    source = "./modules/iam"
  }

  variables {
    deploy_account      = true
    edge_account        = true
    edge_tunnel_members = ["serviceAccount:edge-nas@acme-data-prod.iam.gserviceaccount.com"]
  }

  assert {
    condition     = google_service_account.dag_test[0].account_id == "af-dag-tests" && google_service_account.dag_test[0].email != google_service_account.deploy[0].email
    error_message = "The DAG tests have their own account, <cluster_name>-dag-tests, not the deploy account."
  }

  assert {
    condition = [
      for m in concat(
        values(google_project_iam_member.vm), values(google_project_iam_member.deploy), google_project_iam_member.dag_test,
        values(google_project_iam_member.edge), values(google_project_iam_member.edge_tunnel),
      ) : m.role if m.member == "serviceAccount:${google_service_account.dag_test[0].email}"
    ] == ["roles/logging.logWriter"]
    error_message = "The DAG-test account holds exactly one project role, logging.logWriter (no compute.viewer, no metric writer)."
  }

  assert {
    condition = output.dag_test_service_account == {
      email  = google_service_account.dag_test[0].email
      id     = google_service_account.dag_test[0].id
      member = "serviceAccount:${google_service_account.dag_test[0].email}"
    }
    error_message = "dag_test_service_account hands out the DAG-test account (what the test trigger runs as)."
  }
}

run "no_build_accounts_by_default" {
  command = plan

  module {
    source = "./modules/iam"
  }

  assert {
    condition = (
      length(google_service_account.dag_test) == 0 && length(google_project_iam_member.dag_test) == 0
      && length(google_service_account.deploy) == 0 && output.dag_test_service_account == null
    )
    error_message = "Without deploy_account there is neither build account."
  }
}
