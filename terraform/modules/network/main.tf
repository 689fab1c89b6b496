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
  # ABANDON: terraform destroy forgets the connection instead of failing with "producer services are still
  # using this connection" while the just-deleted Cloud SQL instance is released; the peering goes with the VPC.
  deletion_policy = "ABANDON"

  network                 = google_compute_network.this.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.sql_private_range.name]
}

# --- firewall ---------------------------------------------------------------------------
# Ingress is denied by default in a custom VPC; each rule opens one flow. Rules are data: add one here.
locals {
  log_ports = (var.ports.worker_log_first == var.ports.worker_log_last
    ? tostring(var.ports.worker_log_first)
  : "${var.ports.worker_log_first}-${var.ports.worker_log_last}")

  firewall_rules = {
    "allow-iap-ssh" = {
      description   = "SSH through IAP TCP forwarding to every cluster VM."
      source_ranges = [local.iap_range]
      source_tags   = null
      target_tags   = [local.main_tag, local.worker_tag]
      ports         = ["22"]
    }
    "allow-iap-ui" = {
      description   = "Airflow UI/API and Flower on the main VM through IAP TCP forwarding."
      source_ranges = [local.iap_range]
      source_tags   = null
      target_tags   = [local.main_tag]
      ports         = [tostring(var.ports.api), tostring(var.ports.flower)]
    }
    "allow-workers-to-main" = {
      description   = "Workers reach Redis (broker) and the execution API on the main VM."
      source_ranges = null
      source_tags   = [local.worker_tag]
      target_tags   = [local.main_tag]
      ports         = [tostring(var.ports.redis), tostring(var.ports.api)]
    }
    "allow-main-to-worker-logs" = {
      description   = "The API server on the main VM fetches live task logs from the worker log servers."
      source_ranges = null
      source_tags   = [local.main_tag]
      target_tags   = [local.worker_tag]
      ports         = [local.log_ports]
    }
  }
}

resource "google_compute_firewall" "this" {
  for_each = local.firewall_rules

  project     = var.project_id
  name        = "${var.cluster_name}-${each.key}"
  network     = google_compute_network.this.id
  description = each.value.description
  direction   = "INGRESS"
  priority    = 1000

  source_ranges = each.value.source_ranges
  source_tags   = each.value.source_tags
  target_tags   = each.value.target_tags

  allow {
    protocol = "tcp"
    ports    = each.value.ports
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}
