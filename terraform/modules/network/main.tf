locals {
  # Google's IAP TCP-forwarding range: the only source allowed from outside the VPC.
  iap_range = "35.235.240.0/20"

  main_tag   = "${var.cluster_name}-main"
  worker_tag = "${var.cluster_name}-worker"
}

resource "google_compute_network" "this" {
  project                 = var.project_id
  name                    = "${var.cluster_name}-vpc"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "this" {
  project                  = var.project_id
  name                     = "${var.cluster_name}-subnet"
  region                   = var.region
  network                  = google_compute_network.this.id
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_5_SEC"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# --- egress to package mirrors without public IPs ---------------------------------------
resource "google_compute_router" "this" {
  project = var.project_id
  name    = "${var.cluster_name}-router"
  region  = var.region
  network = google_compute_network.this.id
}

resource "google_compute_router_nat" "this" {
  project                            = var.project_id
  name                               = "${var.cluster_name}-nat"
  router                             = google_compute_router.this.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"

  subnetwork {
    name                    = google_compute_subnetwork.this.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

# --- private service access for Cloud SQL ----------------------------------------------
resource "google_compute_global_address" "sql_private_range" {
  project       = var.project_id
  name          = "${var.cluster_name}-sql-psa"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = var.sql_private_range_prefix_length
  network       = google_compute_network.this.id
}

resource "google_service_networking_connection" "sql" {
  network                 = google_compute_network.this.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.sql_private_range.name]
}

# --- firewall ---------------------------------------------------------------------------
# Ingress is denied by default in a custom VPC; each rule below opens one flow.
resource "google_compute_firewall" "iap_ssh" {
  project     = var.project_id
  name        = "${var.cluster_name}-allow-iap-ssh"
  network     = google_compute_network.this.id
  description = "SSH through IAP TCP forwarding to every cluster VM."
  direction   = "INGRESS"
  priority    = 1000

  source_ranges = [local.iap_range]
  target_tags   = [local.main_tag, local.worker_tag]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "iap_ui" {
  project     = var.project_id
  name        = "${var.cluster_name}-allow-iap-ui"
  network     = google_compute_network.this.id
  description = "Airflow UI/API and Flower on the main VM through IAP TCP forwarding."
  direction   = "INGRESS"
  priority    = 1000

  source_ranges = [local.iap_range]
  target_tags   = [local.main_tag]

  allow {
    protocol = "tcp"
    ports    = [tostring(var.api_server_port), tostring(var.flower_port)]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "workers_to_main" {
  project     = var.project_id
  name        = "${var.cluster_name}-allow-workers-to-main"
  network     = google_compute_network.this.id
  description = "Workers reach Redis (broker) and the execution API on the main VM."
  direction   = "INGRESS"
  priority    = 1000

  source_tags = [local.worker_tag]
  target_tags = [local.main_tag]

  allow {
    protocol = "tcp"
    ports    = [tostring(var.redis_port), tostring(var.api_server_port)]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "main_to_worker_logs" {
  project     = var.project_id
  name        = "${var.cluster_name}-allow-main-to-worker-logs"
  network     = google_compute_network.this.id
  description = "The API server on the main VM fetches live task logs from the worker log servers."
  direction   = "INGRESS"
  priority    = 1000

  source_tags = [local.main_tag]
  target_tags = [local.worker_tag]

  allow {
    protocol = "tcp"
    ports = [
      var.log_server_ports[0] == var.log_server_ports[1]
      ? tostring(var.log_server_ports[0])
      : "${var.log_server_ports[0]}-${var.log_server_ports[1]}"
    ]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}
