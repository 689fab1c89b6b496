# Airflow Edge workers (edge_worker_count, apache-airflow-providers-edge3): nothing of them by default; with
# some, hardened VMs with their own label and tag, their own account (log and metric writer, the task-log
# bucket, no secret), and firewall flows to the API port of the main VM only.
mock_provider "google" {}

variables {
  project_id   = "acme-data-prod"
  cluster_name = "af"
}

# --- the root: edge_worker_count reaches every module ----------------------------------------------------
run "no_edge_workers_by_default" {
  command = plan

  assert {
    condition     = module.vms.edge_instance_names == [] && module.iam.edge_service_account == null
    error_message = "edge_worker_count = 0 (the default) plans no Edge worker VM and no edge service account."
  }

  assert {
    condition     = !contains(keys(output.ansible), "edge_vm_names")
    error_message = "Without Edge workers the ansible object has no edge_vm_names key: it is the object of a cluster from before they existed."
  }

  assert {
    condition     = length([for n in module.network.firewall_rule_names : n if strcontains(n, "edge")]) == 0 && length(module.network.firewall_rule_names) == 5
    error_message = "Without Edge workers the firewall keeps its five rules (four ingress, the worker VMs' egress deny) and no edge rule."
  }
}

run "two_edge_workers" {
  command = plan

  variables {
    edge_worker_count = 2
  }

  assert {
    condition     = output.ansible.edge_vm_names == ["af-edge-1", "af-edge-2"] && module.vms.edge_instance_names == ["af-edge-1", "af-edge-2"]
    error_message = "edge_worker_count = 2 plans <cluster_name>-edge-1 and -2, handed to Ansible as edge_vm_names."
  }

  assert {
    condition     = output.ansible.worker_vm_names == ["af-worker-1", "af-worker-2"] && output.ansible.main_vm_name == "af-main"
    error_message = "Edge workers are neither the main VM nor Celery workers."
  }

  assert {
    condition     = module.iam.edge_service_account != null && keys(module.iam.vm_service_accounts) == ["main", "worker"]
    error_message = "Edge workers get their own service account; the main and worker accounts stay as they are."
  }

  assert {
    condition = toset(module.network.firewall_rule_names) == toset([
      "allow-iap-ssh", "allow-iap-ui", "allow-workers-to-main", "allow-main-to-worker-logs", "deny-worker-egress-sql",
      "allow-edge-to-main", "allow-edge-egress-api", "deny-edge-egress-internal",
    ])
    error_message = "Edge workers add exactly their three firewall rules."
  }

  assert {
    condition     = strcontains(module.monitoring.rules["vm_disk_near_full"].expr, "af-edge-2")
    error_message = "The VM alerts cover the Edge worker VMs too."
  }
}

# --- modules/cloudbuild: the redeploy builds reach the Edge worker VMs (site.yml's first play targets every host)
run "deploy_builds_reach_edge_workers" {
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
    edge_service_account_email = "af-edge-sa@acme-data-prod.iam.gserviceaccount.com"
    ansible = {
      project_id      = "acme-data-prod"
      zone            = "europe-west1-b"
      cluster_name    = "af"
      main_vm_name    = "af-main"
      worker_vm_names = ["af-worker-1"]
      edge_vm_names   = ["af-edge-1", "af-edge-2"]
      secret_ids      = { sample_password = "af-sample-password" }
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
      toset([for m in google_iap_tunnel_instance_iam_member.build : m.instance]) == toset(["af-main", "af-worker-1", "af-edge-1", "af-edge-2"])
      && toset([for m in google_compute_instance_iam_member.build : m.instance_name]) == toset(["af-main", "af-worker-1", "af-edge-1", "af-edge-2"])
    )
    error_message = "The build's IAP tunnel and OS Login grants cover the Edge worker VMs too, per VM."
  }

  assert {
    condition     = length(google_service_account_iam_member.build_acts_as_edge) == 1 && endswith(google_service_account_iam_member.build_acts_as_edge[0].service_account_id, "/af-edge-sa@acme-data-prod.iam.gserviceaccount.com") && google_service_account_iam_member.build_acts_as_edge[0].role == "roles/iam.serviceAccountUser"
    error_message = "The build may act as the edge account (OS Login on VMs that run as it)."
  }

  assert {
    condition = (
      toset([for m in google_secret_manager_secret_iam_member.deploy_key_vm : m.member]) == toset([
        "serviceAccount:af-main-sa@acme-data-prod.iam.gserviceaccount.com",
        "serviceAccount:af-worker-sa@acme-data-prod.iam.gserviceaccount.com",
      ])
      && toset([for m in google_secret_manager_secret_iam_member.build : m.secret_id]) == toset(["af-sample-password"])
    )
    error_message = "Edge workers add no secret grant: the deploy key stays readable by the main and worker accounts only."
  }

  assert {
    condition     = jsondecode(google_cloudbuild_trigger.deploy.substitutions["_TF_OUTPUTS"]).edge_vm_names == ["af-edge-1", "af-edge-2"]
    error_message = "_TF_OUTPUTS carries the Edge worker VMs to the build's inventory."
  }
}

run "deploy_builds_need_the_edge_account" {
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
      main_vm_name = "af-main", worker_vm_names = [], edge_vm_names = ["af-edge-1"], secret_ids = {}
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

  expect_failures = [var.edge_service_account_email]
}

# --- modules/vms: hardened edge VMs ----------------------------------------------------------------------
run "edge_vms_are_hardened_and_labelled" {
  command = plan

  module {
    source = "./modules/vms"
  }

  variables {
    zone                         = "europe-west1-b"
    subnetwork                   = "projects/acme-data-prod/regions/europe-west1/subnetworks/af-subnet"
    main_service_account_email   = "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
    worker_service_account_email = "af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
    main_tags                    = ["af-main"]
    worker_tags                  = ["af-worker"]
    worker_count                 = 1
    main_machine_type            = "e2-standard-4"
    worker_machine_type          = "e2-standard-4"
    main_disk_size_gb            = 50
    worker_disk_size_gb          = 50
    boot_disk_type               = "pd-balanced"
    labels                       = { "airflow-cluster" = "af" }
    edge_count                   = 2
    edge_tags                    = ["af-edge"]
    edge_machine_type            = "e2-standard-2"
    edge_disk_size_gb            = 30
    edge_service_account_email   = "af-edge-sa@acme-data-prod.iam.gserviceaccount.com"
  }

  assert {
    condition     = toset(keys(google_compute_instance.this)) == toset(["af-main", "af-worker-1", "af-edge-1", "af-edge-2"]) && output.edge_instance_names == ["af-edge-1", "af-edge-2"]
    error_message = "Edge worker VMs are <cluster_name>-edge-1..N, next to the main and worker VMs."
  }

  assert {
    condition = alltrue([for n in ["af-edge-1", "af-edge-2"] :
      google_compute_instance.this[n].labels["airflow-role"] == "edge"
      && google_compute_instance.this[n].labels["airflow-cluster"] == "af"
      && google_compute_instance.this[n].boot_disk[0].initialize_params[0].labels["airflow-role"] == "edge"
      && google_compute_instance.this[n].tags == toset(["af-edge"])
    ])
    error_message = "Edge worker VMs are labelled airflow-role = edge and tagged <cluster_name>-edge only."
  }

  assert {
    condition = (
      alltrue([for n in ["af-edge-1", "af-edge-2"] :
        google_compute_instance.this[n].service_account[0].email == "af-edge-sa@acme-data-prod.iam.gserviceaccount.com"
      ])
      && google_compute_instance.this["af-worker-1"].service_account[0].email == "af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
      && google_compute_instance.this["af-main"].service_account[0].email == "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
    )
    error_message = "Edge worker VMs run as the edge account; the main and worker VMs keep theirs."
  }

  assert {
    condition = alltrue([for n in ["af-edge-1", "af-edge-2"] :
      alltrue([for ni in google_compute_instance.this[n].network_interface : length(ni.access_config) == 0 && length(ni.ipv6_access_config) == 0])
      && google_compute_instance.this[n].shielded_instance_config[0].enable_secure_boot
      && google_compute_instance.this[n].shielded_instance_config[0].enable_vtpm
      && google_compute_instance.this[n].shielded_instance_config[0].enable_integrity_monitoring
      && google_compute_instance.this[n].metadata["enable-oslogin"] == "TRUE"
      && google_compute_instance.this[n].metadata["block-project-ssh-keys"] == "TRUE"
      && google_compute_instance.this[n].metadata["serial-port-enable"] == "FALSE"
      && google_compute_instance.this[n].boot_disk[0].initialize_params[0].image == "debian-cloud/debian-12"
      && google_compute_instance.this[n].can_ip_forward == false
    ])
    error_message = "Edge worker VMs are hardened like the others: no external IP, Shielded VM, OS Login, project SSH keys blocked, serial port off, Debian 12, no IP forwarding."
  }

  assert {
    condition = alltrue([for n in ["af-edge-1", "af-edge-2"] :
      google_compute_instance.this[n].machine_type == "e2-standard-2" && google_compute_instance.this[n].boot_disk[0].initialize_params[0].size == 30
    ])
    error_message = "Edge machine type and disk size come from their own variables."
  }
}

run "edge_vms_need_their_own_account" {
  command = plan

  module {
    source = "./modules/vms"
  }

  variables {
    zone                       = "europe-west1-b"
    subnetwork                 = "projects/acme-data-prod/regions/europe-west1/subnetworks/af-subnet"
    main_service_account_email = "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
    main_tags                  = ["af-main"]
    worker_tags                = ["af-worker"]
    worker_count               = 0
    main_machine_type          = "e2-standard-4"
    worker_machine_type        = "e2-standard-4"
    main_disk_size_gb          = 50
    worker_disk_size_gb        = 50
    boot_disk_type             = "pd-balanced"
    edge_count                 = 1
    edge_tags                  = ["af-edge"]
  }

  expect_failures = [var.edge_service_account_email]
}

# --- modules/iam: the edge account's grants ----------------------------------------------------------------
run "edge_account_least_privilege" {
  command = plan

  module {
    source = "./modules/iam"
  }

  variables {
    edge_account = true
  }

  assert {
    condition     = google_service_account.edge[0].account_id == "af-edge-sa"
    error_message = "The edge account id is <cluster_name>-edge-sa."
  }

  assert {
    condition     = toset([for m in google_project_iam_member.edge : m.role]) == toset(["roles/logging.logWriter", "roles/monitoring.metricWriter"])
    error_message = "The edge account's project roles are logging.logWriter and monitoring.metricWriter only."
  }

  assert {
    condition     = toset([for m in google_project_iam_member.vm : m.role]) == toset(["roles/logging.logWriter", "roles/monitoring.metricWriter"]) && keys(google_service_account.vm) == ["main", "worker"]
    error_message = "The main and worker accounts and their roles do not change with the edge account."
  }
}

run "no_edge_account_by_default" {
  command = plan

  module {
    source = "./modules/iam"
  }

  assert {
    condition     = length(google_service_account.edge) == 0 && length(google_project_iam_member.edge) == 0 && output.edge_service_account == null
    error_message = "Without edge_account there is no edge account and no grant to it."
  }
}

# --- modules/storage: the task-log bucket is the edge account's one resource grant ---------------------
run "edge_account_writes_the_task_log_bucket_only" {
  command = plan

  module {
    source = "./modules/storage"
  }

  variables {
    location                  = "europe-west1"
    retention_days            = 30
    noncurrent_retention_days = 7
    writers = {
      main   = "serviceAccount:af-main-sa@acme-data-prod.iam.gserviceaccount.com"
      worker = "serviceAccount:af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
      edge   = "serviceAccount:af-edge-sa@acme-data-prod.iam.gserviceaccount.com"
    }
  }

  assert {
    condition = (
      google_storage_bucket_iam_member.writer["edge"].role == "roles/storage.objectUser"
      && google_storage_bucket_iam_member.writer["edge"].member == "serviceAccount:af-edge-sa@acme-data-prod.iam.gserviceaccount.com"
      && google_storage_bucket_iam_member.writer["edge"].bucket == "acme-data-prod-af-task-logs"
    )
    error_message = "The edge account gets objectUser on the task-log bucket (edge workers upload their task logs), a bucket-level binding."
  }

  assert {
    condition = (
      length(google_storage_bucket_iam_member.writer) == 3
      && google_storage_bucket_iam_member.writer["main"].member == "serviceAccount:af-main-sa@acme-data-prod.iam.gserviceaccount.com"
      && google_storage_bucket_iam_member.writer["worker"].member == "serviceAccount:af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
    )
    error_message = "The main and worker accounts keep their own bindings."
  }
}

run "no_edge_bucket_grant_by_default" {
  command = plan

  module {
    source = "./modules/storage"
  }

  variables {
    location                  = "europe-west1"
    retention_days            = 30
    noncurrent_retention_days = 7
    writers = {
      main   = "serviceAccount:af-main-sa@acme-data-prod.iam.gserviceaccount.com"
      worker = "serviceAccount:af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
    }
  }

  assert {
    condition     = toset(keys(google_storage_bucket_iam_member.writer)) == toset(["main", "worker"])
    error_message = "Without Edge workers the bucket has the main and worker accounts' bindings only."
  }
}

# --- modules/network: edge -> main on the API port, IAP SSH, and nothing else --------------------------
run "edge_firewall" {
  # apply (mocked): the deny rule's Cloud SQL range is the private service access range's address, known
  # only once that range exists.
  command = apply

  module {
    source = "./modules/network"
  }

  variables {
    region                          = "europe-west1"
    subnet_cidr                     = "10.10.0.0/24"
    sql_private_range_prefix_length = 20
    edge_workers                    = true
    ports = {
      api              = 8080
      redis            = 6379
      flower           = 5555
      worker_log_first = 8793
      worker_log_last  = 8794
    }
  }

  assert {
    condition = (
      google_compute_firewall.this["allow-edge-to-main"].direction == "INGRESS"
      && google_compute_firewall.this["allow-edge-to-main"].source_ranges == null
      && google_compute_firewall.this["allow-edge-to-main"].source_tags == toset(["af-edge"])
      && google_compute_firewall.this["allow-edge-to-main"].target_tags == toset(["af-main"])
      && length(google_compute_firewall.this["allow-edge-to-main"].allow) == 1
      && one(google_compute_firewall.this["allow-edge-to-main"].allow).protocol == "tcp"
      && one(google_compute_firewall.this["allow-edge-to-main"].allow).ports == tolist(["8080"])
    )
    error_message = "Edge workers reach the main VM on the API port (8080) only."
  }

  assert {
    condition     = google_compute_firewall.this["allow-iap-ssh"].target_tags == toset(["af-main", "af-worker", "af-edge"]) && google_compute_firewall.this["allow-iap-ssh"].source_ranges == toset(["35.235.240.0/20"])
    error_message = "IAP SSH reaches the Edge worker VMs too (Ansible configures them over it)."
  }

  assert {
    condition = alltrue([for k, fw in google_compute_firewall.this :
      !contains(coalesce(fw.target_tags, toset([])), "af-edge") || contains(["allow-iap-ssh", "allow-edge-egress-api", "deny-edge-egress-internal"], k)
    ])
    error_message = "No ingress rule other than IAP SSH targets the Edge worker VMs: no log server, no Redis, nothing from the other VMs."
  }

  assert {
    condition = alltrue([for k, fw in google_compute_firewall.this :
      !contains(coalesce(fw.source_tags, toset([])), "af-edge") || k == "allow-edge-to-main"
    ])
    error_message = "allow-edge-to-main is the only rule with the Edge workers as source (not Redis, not the worker log servers)."
  }

  assert {
    condition = (
      google_compute_firewall.this["allow-edge-egress-api"].direction == "EGRESS"
      && google_compute_firewall.this["allow-edge-egress-api"].priority == 900
      && google_compute_firewall.this["allow-edge-egress-api"].target_tags == toset(["af-edge"])
      && google_compute_firewall.this["allow-edge-egress-api"].destination_ranges == toset(["10.10.0.0/24"])
      && one(google_compute_firewall.this["allow-edge-egress-api"].allow).ports == tolist(["8080"])
    )
    error_message = "Edge workers may send to the API port inside the subnet, at a priority above the deny."
  }

  assert {
    condition = (
      google_compute_firewall.this["deny-edge-egress-internal"].direction == "EGRESS"
      && google_compute_firewall.this["deny-edge-egress-internal"].priority == 1000
      && google_compute_firewall.this["deny-edge-egress-internal"].target_tags == toset(["af-edge"])
      && length(google_compute_firewall.this["deny-edge-egress-internal"].allow) == 0
      && one(google_compute_firewall.this["deny-edge-egress-internal"].deny).protocol == "all"
      && google_compute_firewall.this["deny-edge-egress-internal"].destination_ranges == toset([
        "10.10.0.0/24", "${google_compute_global_address.sql_private_range.address}/20",
      ])
    )
    error_message = "Everything else Edge workers send to the subnet or to Cloud SQL's private service access range is denied."
  }

  assert {
    condition     = length(google_compute_firewall.this) == 8 && alltrue([for fw in google_compute_firewall.this : !contains(coalesce(fw.source_ranges, toset([])), "0.0.0.0/0")])
    error_message = "Eight rules with Edge workers; none open to 0.0.0.0/0."
  }
}

run "no_edge_firewall_by_default" {
  command = plan

  module {
    source = "./modules/network"
  }

  variables {
    region                          = "europe-west1"
    subnet_cidr                     = "10.10.0.0/24"
    sql_private_range_prefix_length = 20
    ports = {
      api              = 8080
      redis            = 6379
      flower           = 5555
      worker_log_first = 8793
      worker_log_last  = 8793
    }
  }

  assert {
    condition     = toset(keys(google_compute_firewall.this)) == toset(["allow-iap-ssh", "allow-iap-ui", "allow-workers-to-main", "allow-main-to-worker-logs", "deny-worker-egress-sql"])
    error_message = "Without Edge workers, the four ingress rules and the worker VMs' egress deny only."
  }

  assert {
    condition     = google_compute_firewall.this["allow-iap-ssh"].target_tags == toset(["af-main", "af-worker"])
    error_message = "Without Edge workers the IAP SSH rule targets the main and worker VMs, as before."
  }
}

# --- validation of the root variables ----------------------------------------------------------------------
run "edge_worker_count_negative" {
  command = plan
  variables { edge_worker_count = -1 }
  expect_failures = [var.edge_worker_count]
}

run "edge_worker_count_11" {
  command = plan
  variables { edge_worker_count = 11 }
  expect_failures = [var.edge_worker_count]
}

run "edge_worker_count_fraction" {
  command = plan
  variables { edge_worker_count = 0.5 }
  expect_failures = [var.edge_worker_count]
}

run "bad_edge_machine_type" {
  command = plan
  variables { edge_machine_type = "Edge 2 CPU" }
  expect_failures = [var.edge_machine_type]
}

run "edge_disk_too_small" {
  command = plan
  variables { edge_disk_size_gb = 10 }
  expect_failures = [var.edge_disk_size_gb]
}

run "edge_disk_too_large" {
  command = plan
  variables { edge_disk_size_gb = 2001 }
  expect_failures = [var.edge_disk_size_gb]
}

# --- Edge workers outside Google Cloud: an IAP tunnel to the main VM's API port, nothing else -------------
run "outside_edge_tunnels_to_the_api_port_only" {
  command = plan

  module {
    source = "./modules/vms"
  }

  variables {
    zone                         = "europe-west1-b"
    subnetwork                   = "projects/acme-data-prod/regions/europe-west1/subnetworks/af-subnet"
    main_service_account_email   = "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
    worker_service_account_email = "af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
    main_tags                    = ["af-main"]
    worker_tags                  = ["af-worker"]
    worker_count                 = 1
    main_machine_type            = "e2-standard-4"
    worker_machine_type          = "e2-standard-4"
    main_disk_size_gb            = 50
    worker_disk_size_gb          = 50
    boot_disk_type               = "pd-balanced"
    main_api_tunnel_members      = ["serviceAccount:edge-nas@acme-data-prod.iam.gserviceaccount.com"]
    api_port                     = 8080
  }

  assert {
    condition = (
      length(google_iap_tunnel_instance_iam_member.main_api_tunnel) == 1
      && alltrue([for m in google_iap_tunnel_instance_iam_member.main_api_tunnel :
        m.instance == "af-main" && m.zone == "europe-west1-b" && m.role == "roles/iap.tunnelResourceAccessor"
        && m.member == "serviceAccount:edge-nas@acme-data-prod.iam.gserviceaccount.com"
        && m.condition[0].expression == "destination.port == 8080"
      ])
    )
    error_message = "An Edge worker outside Google Cloud may tunnel to the main VM only, and there to the API port only (IAM condition destination.port)."
  }
}

run "no_outside_edge_tunnel_by_default" {
  command = plan

  module {
    source = "./modules/vms"
  }

  variables {
    zone                       = "europe-west1-b"
    subnetwork                 = "projects/acme-data-prod/regions/europe-west1/subnetworks/af-subnet"
    main_service_account_email = "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
    main_tags                  = ["af-main"]
    worker_tags                = ["af-worker"]
    worker_count               = 0
    main_machine_type          = "e2-standard-4"
    worker_machine_type        = "e2-standard-4"
    main_disk_size_gb          = 50
    worker_disk_size_gb        = 50
    boot_disk_type             = "pd-balanced"
  }

  assert {
    condition     = length(google_iap_tunnel_instance_iam_member.main_api_tunnel) == 0
    error_message = "No IAP tunnel grant without edge_tunnel_members."
  }
}

run "outside_edge_tunnel_needs_the_api_port" {
  command = plan

  module {
    source = "./modules/vms"
  }

  variables {
    zone                         = "europe-west1-b"
    subnetwork                   = "projects/acme-data-prod/regions/europe-west1/subnetworks/af-subnet"
    main_service_account_email   = "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
    worker_service_account_email = "af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
    main_tags                    = ["af-main"]
    worker_tags                  = ["af-worker"]
    worker_count                 = 0
    main_machine_type            = "e2-standard-4"
    worker_machine_type          = "e2-standard-4"
    main_disk_size_gb            = 50
    worker_disk_size_gb          = 50
    boot_disk_type               = "pd-balanced"
    main_api_tunnel_members      = ["user:ops@example.com"]
  }

  expect_failures = [var.api_port]
}

run "outside_edge_looks_the_vm_up" {
  command = plan

  module {
    source = "./modules/iam"
  }

  variables {
    edge_tunnel_members = ["serviceAccount:edge-nas@acme-data-prod.iam.gserviceaccount.com"]
  }

  assert {
    condition = [for m in google_project_iam_member.edge_tunnel : [m.role, m.member]] == [
      ["roles/compute.viewer", "serviceAccount:edge-nas@acme-data-prod.iam.gserviceaccount.com"],
    ]
    error_message = "An Edge worker outside Google Cloud gets compute.viewer on the project (gcloud looks the main VM up), nothing else at project level."
  }

  assert {
    condition     = length(google_service_account.edge) == 0
    error_message = "An Edge worker outside Google Cloud needs no edge VM account."
  }
}

run "edge_tunnel_member_all_users" {
  command = plan
  variables { edge_tunnel_members = ["allUsers"] }
  expect_failures = [var.edge_tunnel_members]
}

run "edge_tunnel_member_domain" {
  command = plan
  variables { edge_tunnel_members = ["domain:example.com"] }
  expect_failures = [var.edge_tunnel_members]
}

run "edge_tunnel_member_twice" {
  command = plan
  variables { edge_tunnel_members = ["user:ops@example.com", "user:ops@example.com"] }
  expect_failures = [var.edge_tunnel_members]
}
