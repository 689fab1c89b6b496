locals {
  # Hardened instance metadata shared by every VM.
  metadata = {
    "enable-oslogin"         = "TRUE"
    "block-project-ssh-keys" = "TRUE"
    "serial-port-enable"     = "FALSE"
  }

  instances = merge(
    {
      "${var.cluster_name}-main" = {
        role            = "main"
        labels          = { "airflow-role" = "main" }
        machine_type    = var.main_machine_type
        disk_size_gb    = var.main_disk_size_gb
        tags            = var.main_tags
        service_account = var.main_service_account_email
      }
    },
    {
      for i in range(1, var.worker_count + 1) : "${var.cluster_name}-worker-${i}" => {
        role            = "worker"
        labels          = { "airflow-role" = "worker" }
        machine_type    = var.worker_machine_type
        disk_size_gb    = var.worker_disk_size_gb
        tags            = var.worker_tags
        service_account = var.worker_service_account_email
      }
    },
    # Each kind of VM runs as its own account (../iam): what task code on one can do with its VM's identity is
    # what that account may do, and no more.
    {
      for i in range(1, var.edge_count + 1) : "${var.cluster_name}-edge-${i}" => {
        role            = "edge"
        labels          = { "airflow-role" = "edge" }
        machine_type    = var.edge_machine_type
        disk_size_gb    = var.edge_disk_size_gb
        tags            = var.edge_tags
        service_account = var.edge_service_account_email
      }
    },
  )
}

resource "google_compute_instance" "this" {
  #checkov:skip=CKV_GCP_38:Boot disks use Google-managed encryption; customer-supplied keys would have to be handed to Terraform on every apply.
  for_each = local.instances

  project                   = var.project_id
  zone                      = var.zone
  name                      = each.key
  machine_type              = each.value.machine_type
  tags                      = each.value.tags
  labels                    = merge(var.labels, each.value.labels)
  metadata                  = local.metadata
  can_ip_forward            = false
  deletion_protection       = var.deletion_protection
  allow_stopping_for_update = true

  boot_disk {
    auto_delete = true
    initialize_params {
      image  = var.image
      size   = each.value.disk_size_gb
      type   = var.boot_disk_type
      labels = merge(var.labels, { "airflow-role" = each.value.role })
    }
  }

  # No access_config block: no external IP. Egress goes through Cloud NAT.
  network_interface {
    subnetwork = var.subnetwork
  }

  service_account {
    email = each.value.service_account
    # Access is governed by the account's IAM grants, not by legacy scopes.
    scopes = ["cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }
}

# Edge workers outside Google Cloud reach the API server through an IAP TCP tunnel to the main VM. The grant is
# on that VM alone, and its condition limits the tunnel to the API port: the same principal cannot open SSH
# (22), Flower or anything else through IAP, although the firewall admits the IAP range to those ports.
resource "google_iap_tunnel_instance_iam_member" "main_api_tunnel" {
  for_each = toset(var.main_api_tunnel_members)

  project  = var.project_id
  zone     = var.zone
  instance = google_compute_instance.this["${var.cluster_name}-main"].name
  role     = "roles/iap.tunnelResourceAccessor"
  member   = each.value

  condition {
    title       = "api-port-only"
    description = "IAP TCP forwarding to the Airflow API server's port only (Edge workers outside Google Cloud)."
    expression  = "destination.port == ${var.api_port}"
  }
}
