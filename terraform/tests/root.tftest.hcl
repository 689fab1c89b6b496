# Whole-configuration plans with a mocked google provider (no credentials, no API calls) and the real
# random provider.
mock_provider "google" {}

variables {
  project_id   = "acme-data-prod"
  cluster_name = "af"
}

run "default_plan_outputs" {
  command = plan

  assert {
    condition     = output.ansible.main_vm_name == "af-main" && output.ansible.worker_vm_names == ["af-worker-1", "af-worker-2"]
    error_message = "The VMs are <cluster_name>-main and <cluster_name>-worker-1..N (worker_count defaults to 2)."
  }

  assert {
    # The names come from the one list of secrets; ids are computed in Terraform only.
    condition = output.ansible.secret_ids == {
      for s in yamldecode(file("../ansible/roles/cluster_secrets/vars/main.yml")).cluster_secrets_specs :
      s.name => "af-${replace(s.name, "_", "-")}"
    }
    error_message = "secret_ids maps every name of cluster_secrets_specs to <cluster_name>-<name with - for _>."
  }

  assert {
    condition     = output.ansible.log_bucket_url == "gs://acme-data-prod-af-task-logs"
    error_message = "log_bucket_url must be gs://<project_id>-<cluster_name>-task-logs."
  }

  assert {
    condition     = output.ansible.project_id == "acme-data-prod" && output.ansible.region == "europe-west1" && output.ansible.zone == "europe-west1-b" && output.ansible.cluster_name == "af"
    error_message = "project_id, region, zone and cluster_name must echo the inputs."
  }

  assert {
    condition     = output.ansible.db_name == "airflow" && output.ansible.db_user == "airflow" && output.ansible.db_port == 5432
    error_message = "The database and user must both be airflow, on Cloud SQL's port 5432."
  }

  assert {
    condition     = output.ansible.airflow_worker_instances == yamldecode(file("../ansible/roles/airflow_base/defaults/main.yml")).airflow_worker_instances
    error_message = "airflow_worker_instances = null hands Ansible the roles' own default."
  }

  assert {
    condition     = length(google_project_service.this) == 11 && contains(keys(google_project_service.this), "iam.googleapis.com") && contains(keys(google_project_service.this), "cloudresourcemanager.googleapis.com") && contains(keys(google_project_service.this), "sqladmin.googleapis.com") && contains(keys(google_project_service.this), "iap.googleapis.com")
    error_message = "The eleven required project services must be enabled."
  }

  assert {
    condition     = alltrue([for s in google_project_service.this : s.disable_on_destroy == false])
    error_message = "Destroying the cluster must not disable project services other workloads may use."
  }

  assert {
    condition     = keys(module.iam.vm_service_accounts) == ["main", "worker"]
    error_message = "A cluster with worker VMs has a main and a worker VM account."
  }
}

run "all_in_one" {
  command = plan

  variables {
    worker_count = 0
  }

  assert {
    condition     = output.ansible.worker_vm_names == [] && output.ansible.main_vm_name == "af-main"
    error_message = "worker_count = 0 plans the main VM only (it then runs the workers too)."
  }

  assert {
    condition     = keys(module.iam.vm_service_accounts) == ["main"]
    error_message = "worker_count = 0 creates no worker account: the all-in-one VM runs as the main account."
  }
}

run "three_workers_two_instances_each" {
  command = plan

  variables {
    worker_count             = 3
    airflow_worker_instances = 2
  }

  assert {
    condition     = output.ansible.worker_vm_names == ["af-worker-1", "af-worker-2", "af-worker-3"] && output.ansible.airflow_worker_instances == 2
    error_message = "worker_count = 3 plans three worker VMs; airflow_worker_instances reaches Ansible as set."
  }
}

run "apis_managed_elsewhere" {
  command = plan

  variables {
    enable_apis = false
  }

  assert {
    condition     = length(google_project_service.this) == 0
    error_message = "enable_apis = false must not manage project services."
  }
}
