# Every bad input is rejected by its variable's validation, before any provider call.
mock_provider "google" {}

variables {
  project_id = "acme-data-prod"
}

run "bad_project_id" {
  command = plan
  variables { project_id = "Acme_Prod" }
  expect_failures = [var.project_id]
}

run "bad_region" {
  command = plan
  variables {
    region = "europe_west1"
    zone   = "europe_west1-b"
  }
  # The zone's rules refer to var.region, so Terraform reports only the region here.
  expect_failures = [var.region]
}

run "zone_outside_region" {
  command = plan
  variables {
    region = "europe-west1"
    zone   = "us-central1-a"
  }
  expect_failures = [var.zone]
}

run "bad_zone_shape" {
  command = plan
  variables { zone = "europe-west1" }
  expect_failures = [var.zone]
}

run "worker_count_negative" {
  command = plan
  variables { worker_count = -1 }
  expect_failures = [var.worker_count]
}

run "worker_count_21" {
  command = plan
  variables { worker_count = 21 }
  expect_failures = [var.worker_count]
}

run "worker_count_fraction" {
  command = plan
  variables { worker_count = 1.5 }
  expect_failures = [var.worker_count]
}

run "worker_instances_zero" {
  command = plan
  variables { airflow_worker_instances = 0 }
  expect_failures = [var.airflow_worker_instances]
}

run "worker_instances_nine" {
  command = plan
  variables { airflow_worker_instances = 9 }
  expect_failures = [var.airflow_worker_instances]
}

run "worker_instances_fraction" {
  command = plan
  variables { airflow_worker_instances = 1.5 }
  expect_failures = [var.airflow_worker_instances]
}

run "bad_main_machine_type" {
  command = plan
  variables { main_machine_type = "Standard 4 CPU" }
  expect_failures = [var.main_machine_type]
}

run "bad_worker_machine_type" {
  command = plan
  variables { worker_machine_type = "large" }
  expect_failures = [var.worker_machine_type]
}

run "bad_disk_size" {
  command = plan
  variables { worker_disk_size_gb = 10 }
  expect_failures = [var.worker_disk_size_gb]
}

run "cidr_not_a_cidr" {
  command = plan
  variables { subnet_cidr = "10.10.0.0" }
  expect_failures = [var.subnet_cidr]
}

run "cidr_public" {
  command = plan
  variables { subnet_cidr = "8.8.8.0/24" }
  expect_failures = [var.subnet_cidr]
}

run "cidr_host_bits" {
  command = plan
  variables { subnet_cidr = "10.10.0.5/24" }
  expect_failures = [var.subnet_cidr]
}

run "cidr_too_small" {
  command = plan
  variables { subnet_cidr = "10.10.0.0/30" }
  expect_failures = [var.subnet_cidr]
}

run "cidr_172_outside_private" {
  command = plan
  variables { subnet_cidr = "172.32.0.0/24" }
  expect_failures = [var.subnet_cidr]
}

run "retention_zero" {
  command = plan
  variables { log_retention_days = 0 }
  expect_failures = [var.log_retention_days]
}

run "retention_too_long" {
  command = plan
  variables { log_retention_days = 4000 }
  expect_failures = [var.log_retention_days]
}

run "soft_delete_6_days" {
  command = plan
  variables { log_soft_delete_days = 6 }
  expect_failures = [var.log_soft_delete_days]
}

run "soft_delete_91_days" {
  command = plan
  variables { log_soft_delete_days = 91 }
  expect_failures = [var.log_soft_delete_days]
}

run "soft_delete_fraction" {
  command = plan
  variables { log_soft_delete_days = 7.5 }
  expect_failures = [var.log_soft_delete_days]
}

run "bad_db_tier" {
  command = plan
  variables { database_tier = "n2-standard-2" }
  expect_failures = [var.database_tier]
}

run "bad_db_version" {
  command = plan
  variables { database_version = "MYSQL_8_0" }
  expect_failures = [var.database_version]
}

run "old_db_version" {
  command = plan
  variables { database_version = "POSTGRES_12" }
  expect_failures = [var.database_version]
}

run "bad_db_edition" {
  command = plan
  variables { database_edition = "STANDARD" }
  expect_failures = [var.database_edition]
}

run "bad_availability_type" {
  command = plan
  variables { database_availability_type = "MULTI" }
  expect_failures = [var.database_availability_type]
}

run "bad_backup_time" {
  command = plan
  variables { database_backup = { start_time = "25:00" } }
  expect_failures = [var.database_backup]
}

run "bad_pitr_days" {
  command = plan
  variables { database_backup = { transaction_log_retention_days = 14 } }
  expect_failures = [var.database_backup]
}

run "bad_maintenance_window" {
  command = plan
  variables { database_maintenance_window = { day = 8 } }
  expect_failures = [var.database_maintenance_window]
}

run "cluster_name_uppercase" {
  command = plan
  variables { cluster_name = "Airflow" }
  expect_failures = [var.cluster_name]
}

run "cluster_name_too_long" {
  command = plan
  variables { cluster_name = "airflow-production-eu1" }
  expect_failures = [var.cluster_name]
}

run "cluster_name_trailing_hyphen" {
  command = plan
  variables { cluster_name = "airflow-" }
  expect_failures = [var.cluster_name]
}

run "labels_override_kit_label" {
  command = plan
  variables { labels = { "airflow-role" = "main" } }
  expect_failures = [var.labels]
}

run "bad_boot_disk_type" {
  command = plan
  variables { boot_disk_type = "local-ssd" }
  expect_failures = [var.boot_disk_type]
}

run "database_max_connections_49" {
  command = plan
  variables { database_max_connections = 49 }
  expect_failures = [var.database_max_connections]
}

run "database_max_connections_10001" {
  command = plan
  variables { database_max_connections = 10001 }
  expect_failures = [var.database_max_connections]
}

run "database_max_connections_fraction" {
  command = plan
  variables { database_max_connections = 150.5 }
  expect_failures = [var.database_max_connections]
}
