# Cloud SQL for PostgreSQL on a private IP only (private service access), TLS required,
# automated backups with point-in-time recovery, deletion protection.
resource "google_sql_database_instance" "this" {
  #checkov:skip=CKV_GCP_6:ssl_mode is ENCRYPTED_ONLY: every connection is TLS and clients verify the server CA (sslmode=verify-ca); the private IP is reachable only from the VPC. Client certificates (TRUSTED_CLIENT_CERTIFICATE_REQUIRED) are not distributed to the VMs.
  #checkov:skip=CKV_GCP_79:The kit allows POSTGRES_15 (tested with Airflow 3) and POSTGRES_16; newer majors are adopted after testing.
  #checkov:skip=CKV_GCP_108:log_hostname makes PostgreSQL reverse-resolve every client; clients are private IPs already logged by log_connections.
  #checkov:skip=CKV2_GCP_13:log_duration would log every statement the scheduler runs; slow statements are visible in Query Insights instead.
  project             = var.project_id
  name                = "${var.cluster_name}-pg"
  region              = var.region
  database_version    = var.database_version
  deletion_protection = var.deletion_protection

  settings {
    tier                        = var.tier
    edition                     = var.edition
    availability_type           = var.availability_type
    disk_type                   = "PD_SSD"
    disk_size                   = var.disk_size_gb
    disk_autoresize             = true
    deletion_protection_enabled = var.deletion_protection
    user_labels                 = var.labels

    ip_configuration {
      ipv4_enabled       = false
      private_network    = var.network_id
      allocated_ip_range = var.private_range_name
      ssl_mode           = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      start_time                     = var.backup.start_time
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = var.backup.transaction_log_retention_days

      backup_retention_settings {
        retained_backups = var.backup.retained_backups
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day          = var.maintenance_window.day
      hour         = var.maintenance_window.hour
      update_track = var.maintenance_window.update_track
    }

    insights_config {
      query_insights_enabled  = true
      record_application_tags = false
      record_client_address   = false
    }

    # Audit logging (CIS GCP 6.2). Written out, not looped, so scanners can read them.
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_min_messages"
      value = "error"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }

    database_flags {
      name  = "max_connections"
      value = tostring(var.max_connections)
    }

    dynamic "database_flags" {
      for_each = var.extra_database_flags
      content {
        name  = database_flags.key
        value = database_flags.value
      }
    }
  }
}

resource "google_sql_database" "airflow" {
  project  = var.project_id
  name     = var.database_name
  instance = google_sql_database_instance.this.name
}

resource "google_sql_user" "airflow" {
  project  = var.project_id
  name     = var.database_user
  instance = google_sql_database_instance.this.name
  # Write-only: the password is set when the user is created and whenever password_wo_version changes
  # (the version number of the db_password secret), and is never stored in the plan or state.
  password_wo         = var.db_password
  password_wo_version = var.db_password_version
}
