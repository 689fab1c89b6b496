# The VM module on its own: hardening that must hold for every VM.
mock_provider "google" {}

variables {
  project_id                   = "acme-data-prod"
  zone                         = "europe-west1-b"
  cluster_name                 = "af"
  subnetwork                   = "projects/acme-data-prod/regions/europe-west1/subnetworks/af-subnet"
  main_service_account_email   = "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
  worker_service_account_email = "af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
  main_tags                    = ["af-main"]
  worker_tags                  = ["af-worker"]
  worker_count                 = 3
  main_machine_type            = "e2-standard-4"
  worker_machine_type          = "n2-standard-8"
  main_disk_size_gb            = 50
  worker_disk_size_gb          = 100
  boot_disk_type               = "pd-balanced"
  labels                       = { "airflow-cluster" = "af" }
}

run "hardened_vms" {
  command = plan

  module {
    source = "./modules/vms"
  }

  assert {
    condition     = toset(keys(google_compute_instance.this)) == toset(["af-main", "af-worker-1", "af-worker-2", "af-worker-3"])
    error_message = "Instances must be <cluster_name>-main and <cluster_name>-worker-1..N."
  }

  assert {
    condition     = alltrue([for vm in google_compute_instance.this : alltrue([for ni in vm.network_interface : length(ni.access_config) == 0 && length(ni.ipv6_access_config) == 0])])
    error_message = "No VM may have an external IP (access_config)."
  }

  assert {
    condition = alltrue([for vm in google_compute_instance.this :
      vm.shielded_instance_config[0].enable_secure_boot && vm.shielded_instance_config[0].enable_vtpm && vm.shielded_instance_config[0].enable_integrity_monitoring
    ])
    error_message = "Every VM must be a Shielded VM with secure boot, vTPM and integrity monitoring."
  }

  assert {
    condition = alltrue([for vm in google_compute_instance.this :
      vm.metadata["enable-oslogin"] == "TRUE" && vm.metadata["block-project-ssh-keys"] == "TRUE" && vm.metadata["serial-port-enable"] == "FALSE"
    ])
    error_message = "Every VM must enable OS Login, block project SSH keys and disable the serial port."
  }

  assert {
    condition     = alltrue([for vm in google_compute_instance.this : vm.boot_disk[0].initialize_params[0].image == "debian-cloud/debian-12"])
    error_message = "Every VM must boot debian-cloud/debian-12."
  }

  assert {
    condition     = alltrue([for vm in google_compute_instance.this : vm.can_ip_forward == false])
    error_message = "IP forwarding must be off."
  }

  assert {
    condition = (
      google_compute_instance.this["af-main"].labels["airflow-role"] == "main"
      && alltrue([for n in ["af-worker-1", "af-worker-2", "af-worker-3"] : google_compute_instance.this[n].labels["airflow-role"] == "worker"])
      && alltrue([for vm in google_compute_instance.this : vm.labels["airflow-cluster"] == "af"])
    )
    error_message = "Every VM is labelled airflow-cluster and airflow-role (main|worker)."
  }

  assert {
    condition = (
      google_compute_instance.this["af-main"].machine_type == "e2-standard-4"
      && google_compute_instance.this["af-worker-2"].machine_type == "n2-standard-8"
      && google_compute_instance.this["af-worker-2"].boot_disk[0].initialize_params[0].size == 100
    )
    error_message = "Machine types and disk sizes come from the variables."
  }

  assert {
    condition = (
      google_compute_instance.this["af-main"].service_account[0].email == "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
      && alltrue([for n in ["af-worker-1", "af-worker-2", "af-worker-3"] :
        google_compute_instance.this[n].service_account[0].email == "af-worker-sa@acme-data-prod.iam.gserviceaccount.com"
      ])
    )
    error_message = "The main VM runs as the main account and every worker VM as the worker account (never the default compute account, never each other's)."
  }

  assert {
    condition     = google_compute_instance.this["af-main"].tags == toset(["af-main"]) && google_compute_instance.this["af-worker-1"].tags == toset(["af-worker"])
    error_message = "Network tags select the firewall rules per role."
  }
}

run "all_in_one" {
  command = plan

  module {
    source = "./modules/vms"
  }

  variables {
    worker_count = 0
  }

  assert {
    condition     = keys(google_compute_instance.this) == ["af-main"] && output.worker_instance_names == []
    error_message = "worker_count = 0 plans the main VM alone."
  }
}

run "all_in_one_needs_no_worker_account" {
  command = plan

  module {
    source = "./modules/vms"
  }

  variables {
    worker_count                 = 0
    worker_service_account_email = null
  }

  assert {
    condition     = google_compute_instance.this["af-main"].service_account[0].email == "af-main-sa@acme-data-prod.iam.gserviceaccount.com"
    error_message = "An all-in-one VM runs as the main account; no worker account is needed."
  }
}

run "worker_vms_need_their_own_account" {
  command = plan

  module {
    source = "./modules/vms"
  }

  variables {
    worker_count                 = 2
    worker_service_account_email = null
  }

  expect_failures = [var.worker_service_account_email]
}
