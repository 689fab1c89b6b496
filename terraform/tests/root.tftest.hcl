# Whole-configuration plans with a mocked google provider: no credentials, no API calls.
mock_provider "google" {}

variables {
  project_id   = "acme-data-prod"
  cluster_name = "af"
}

run "default_plan_outputs" {
  command = plan

  assert {
    condition     = output.main_instance_name == "af-main"
    error_message = "main_instance_name must be <cluster_name>-main."
  }

  assert {
    condition     = output.worker_instance_names == ["af-worker-1", "af-worker-2"]
    error_message = "The default worker_count is 2, named <cluster_name>-worker-1..N."
  }

  assert {
    condition = output.secret_ids == {
      "db-password"     = "af-db-password"
      "fernet-key"      = "af-fernet-key"
      "jwt-secret"      = "af-jwt-secret"
      "api-secret-key"  = "af-api-secret-key"
      "redis-password"  = "af-redis-password"
      "admin-password"  = "af-admin-password"
      "flower-password" = "af-flower-password"
    }
    error_message = "Secret ids must be exactly the <cluster_name>-<name> ids the Ansible cluster_secrets role reads."
  }

  assert {
    condition     = output.log_bucket_url == "gs://acme-data-prod-af-task-logs"
    error_message = "log_bucket_url must be gs://<project_id>-<cluster_name>-task-logs."
  }

  assert {
    condition     = output.project_id == "acme-data-prod" && output.region == "europe-west1" && output.zone == "europe-west1-b" && output.cluster_name == "af"
    error_message = "project_id, region, zone and cluster_name outputs must echo the inputs."
  }

  assert {
    condition     = output.db_name == "airflow" && output.db_user == "airflow"
    error_message = "The database and user must both be airflow."
  }

  assert {
    condition     = length(google_project_service.this) == 9 && contains(keys(google_project_service.this), "sqladmin.googleapis.com") && contains(keys(google_project_service.this), "iap.googleapis.com")
    error_message = "The nine required project services must be enabled."
  }

  assert {
    condition     = alltrue([for s in google_project_service.this : s.disable_on_destroy == false])
    error_message = "Destroying the cluster must not disable project services other workloads may use."
  }
}

run "one_worker" {
  command = plan

  variables {
    worker_count = 1
  }

  assert {
    condition     = output.worker_instance_names == ["af-worker-1"]
    error_message = "worker_count = 1 must plan exactly one worker VM."
  }
}

run "three_workers" {
  command = plan

  variables {
    worker_count = 3
  }

  assert {
    condition     = output.worker_instance_names == ["af-worker-1", "af-worker-2", "af-worker-3"]
    error_message = "worker_count = 3 must plan three worker VMs."
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
