# Cloud SQL module: private IP only, TLS required, backups with PITR, deletion protection.
mock_provider "google" {}

variables {
  project_id         = "acme-data-prod"
  region             = "europe-west1"
  cluster_name       = "af"
  network_id         = "projects/acme-data-prod/global/networks/af-vpc"
  private_range_name = "af-sql-psa"
  database_version   = "POSTGRES_15"
  tier               = "db-custom-2-7680"
  edition            = "ENTERPRISE"
  availability_type  = "REGIONAL"
  disk_size_gb       = 20
  backup = {
    start_time                     = "02:00"
    retained_backups               = 14
    transaction_log_retention_days = 7
  }
  maintenance_window = {
    day          = 7
    hour         = 3
    update_track = "stable"
  }
  db_password         = "0123456789abcdef0123456789abcdef"
  db_password_version = 1
}

run "private_tls_backed_up" {
  command = plan

  module {
    source = "./modules/sql"
  }

  assert {
    condition     = google_sql_user.airflow.password == null && google_sql_user.airflow.password_wo == null && google_sql_user.airflow.password_wo_version == 1
    error_message = "The password is set through the write-only password_wo: never in the plan or the state."
  }

  assert {
    condition     = google_sql_database_instance.this.settings[0].ip_configuration[0].ipv4_enabled == false
    error_message = "Cloud SQL must have no public IPv4 address."
  }

  assert {
    condition     = google_sql_database_instance.this.settings[0].ip_configuration[0].private_network == "projects/acme-data-prod/global/networks/af-vpc"
    error_message = "Cloud SQL must get its private IP in the cluster VPC."
  }

  assert {
    condition     = length(google_sql_database_instance.this.settings[0].ip_configuration[0].authorized_networks) == 0
    error_message = "No authorized networks."
  }

  assert {
    condition     = contains(["ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"], google_sql_database_instance.this.settings[0].ip_configuration[0].ssl_mode)
    error_message = "Cloud SQL must refuse unencrypted connections."
  }

  assert {
    condition = (
      google_sql_database_instance.this.settings[0].backup_configuration[0].enabled
      && google_sql_database_instance.this.settings[0].backup_configuration[0].point_in_time_recovery_enabled
      && google_sql_database_instance.this.settings[0].backup_configuration[0].transaction_log_retention_days == 7
      && google_sql_database_instance.this.settings[0].backup_configuration[0].backup_retention_settings[0].retained_backups == 14
    )
    error_message = "Automated backups with point-in-time recovery must be on."
  }

  assert {
    condition     = google_sql_database_instance.this.deletion_protection && google_sql_database_instance.this.settings[0].deletion_protection_enabled
    error_message = "Deletion protection (Terraform and API) is on by default."
  }

  assert {
    condition     = google_sql_database_instance.this.settings[0].maintenance_window[0].day == 7 && google_sql_database_instance.this.settings[0].maintenance_window[0].hour == 3
    error_message = "The maintenance window comes from the variable."
  }

  assert {
    condition     = startswith(google_sql_database_instance.this.database_version, "POSTGRES_")
    error_message = "PostgreSQL only."
  }

  assert {
    condition     = google_sql_database.airflow.name == "airflow" && google_sql_user.airflow.name == "airflow"
    error_message = "Database and user are both airflow."
  }
}

run "protection_can_be_lifted_for_test_projects" {
  command = plan

  module {
    source = "./modules/sql"
  }

  variables {
    deletion_protection = false
  }

  assert {
    condition     = google_sql_database_instance.this.deletion_protection == false && google_sql_database_instance.this.settings[0].deletion_protection_enabled == false
    error_message = "database_deletion_protection = false lifts both protections."
  }
}

run "max_connections_is_set_as_a_flag" {
  command = plan

  module {
    source = "./modules/sql"
  }

  variables {
    max_connections = 150
  }

  assert {
    condition     = [for f in google_sql_database_instance.this.settings[0].database_flags : f.value if f.name == "max_connections"] == ["150"]
    error_message = "Cloud SQL's max_connections flag is what the module was given (Ansible checks the pools against the same number)."
  }
}

run "max_connections_not_through_extra_flags" {
  command = plan

  module {
    source = "./modules/sql"
  }

  variables {
    extra_database_flags = { max_connections = "500" }
  }

  expect_failures = [var.extra_database_flags]
}

run "max_connections_below_cloud_sql_range" {
  command = plan

  module {
    source = "./modules/sql"
  }

  variables {
    max_connections = 13
  }

  expect_failures = [var.max_connections]
}
