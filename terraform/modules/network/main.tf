locals {
  # Google's IAP TCP-forwarding range: the only source allowed from outside the VPC.
  iap_range = "35.235.240.0/20"

  main_tag   = "${var.cluster_name}-main"
  worker_tag = "${var.cluster_name}-worker"
  edge_tag   = "${var.cluster_name}-edge"
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
# Unset fields take the defaults of local.firewall_defaults (an ingress allow of TCP ports at priority 1000).
# A rule with enabled = false is not created: the Edge worker rules exist only with edge_workers, so a
# cluster without them plans exactly the rules it had before they existed.
locals {
  log_ports = (var.ports.worker_log_first == var.ports.worker_log_last
    ? tostring(var.ports.worker_log_first)
  : "${var.ports.worker_log_first}-${var.ports.worker_log_last}")

  # Where an Edge worker VM may not send anything but the API port: the cluster subnet (the other VMs)
  # and the private service access range (Cloud SQL is reachable from the whole VPC through the peering,
  # whatever the VMs' ingress rules say). Package mirrors (Cloud NAT), Google APIs (Private Google Access)
  # and the metadata server are outside both ranges.
  edge_internal_ranges = [
    var.subnet_cidr,
    "${google_compute_global_address.sql_private_range.address}/${var.sql_private_range_prefix_length}",
  ]

  firewall_defaults = {
    enabled            = true
    direction          = "INGRESS"
    action             = "allow"
    priority           = 1000
    source_ranges      = null
    source_tags        = null
    destination_ranges = null
    target_tags        = null
    protocol           = "tcp"
    ports              = null
  }

  firewall_rules_all = {
    "allow-iap-ssh" = {
      description   = "SSH through IAP TCP forwarding to every cluster VM."
      source_ranges = [local.iap_range]
      # The edge tag only when edge VMs can exist: the rule of a cluster without them stays as it was.
      target_tags = concat([local.main_tag, local.worker_tag], var.edge_workers ? [local.edge_tag] : [])
      ports       = ["22"]
    }
    "allow-iap-ui" = {
      description   = "Airflow UI/API and Flower on the main VM through IAP TCP forwarding."
      source_ranges = [local.iap_range]
      target_tags   = [local.main_tag]
      ports         = [tostring(var.ports.api), tostring(var.ports.flower)]
    }
    "allow-workers-to-main" = {
      description = "Workers reach Redis (broker) and the execution API on the main VM."
      source_tags = [local.worker_tag]
      target_tags = [local.main_tag]
      ports       = [tostring(var.ports.redis), tostring(var.ports.api)]
    }
    "allow-main-to-worker-logs" = {
      description = "The API server on the main VM fetches live task logs from the worker log servers."
      source_tags = [local.main_tag]
      target_tags = [local.worker_tag]
      ports       = [local.log_ports]
    }
    # Edge workers pull their tasks from the API server (edge3's worker API and the execution API, both on
    # the API port, HTTPS) and push their task logs to it: they need neither Redis nor a log server of
    # their own, so nothing reaches them but IAP SSH (above).
    "allow-edge-to-main" = {
      enabled     = var.edge_workers
      description = "Edge workers reach the API server on the main VM (edge worker API, execution API, log push)."
      source_tags = [local.edge_tag]
      target_tags = [local.main_tag]
      ports       = [tostring(var.ports.api)]
    }
    # Egress: an edge VM sends nothing into the VPC but the API port. The allow outranks the deny
    # (lower number); egress rules select destinations by range only, so the allow names the subnet and
    # the main VM's ingress rules narrow it to the main VM. Without these two rules the implied
    # allow-all egress would let an edge VM open connections to Cloud SQL's private IP.
    "allow-edge-egress-api" = {
      enabled            = var.edge_workers
      description        = "Edge workers may send to the API port inside the subnet (the main VM admits them there)."
      direction          = "EGRESS"
      priority           = 900
      destination_ranges = [var.subnet_cidr]
      target_tags        = [local.edge_tag]
      ports              = [tostring(var.ports.api)]
    }
    # Celery worker VMs hold no DB credentials, and task code runs on them: nothing they send reaches Cloud SQL
    # (reachable from the whole VPC through the peering, whatever its ingress rules say). The main VM, which
    # runs the DB's clients, has its own tag; an all-in-one VM has only that one.
    "deny-worker-egress-sql" = {
      description        = "Celery worker VMs send nothing to Cloud SQL's private service access range."
      direction          = "EGRESS"
      action             = "deny"
      destination_ranges = ["${google_compute_global_address.sql_private_range.address}/${var.sql_private_range_prefix_length}"]
      target_tags        = [local.worker_tag]
      protocol           = "all"
    }
    "deny-edge-egress-internal" = {
      enabled            = var.edge_workers
      description        = "Edge workers send nothing else to the subnet or to Cloud SQL's private service access range."
      direction          = "EGRESS"
      action             = "deny"
      destination_ranges = local.edge_internal_ranges
      target_tags        = [local.edge_tag]
      protocol           = "all"
    }
  }

  firewall_rules = {
    for name, rule in { for n, r in local.firewall_rules_all : n => merge(local.firewall_defaults, r) } : name => rule
    if rule.enabled
  }
}

resource "google_compute_firewall" "this" {
  for_each = local.firewall_rules

  project     = var.project_id
  name        = "${var.cluster_name}-${each.key}"
  network     = google_compute_network.this.id
  description = each.value.description
  direction   = each.value.direction
  priority    = each.value.priority

  source_ranges      = each.value.source_ranges
  source_tags        = each.value.source_tags
  destination_ranges = each.value.destination_ranges
  target_tags        = each.value.target_tags

  dynamic "allow" {
    for_each = each.value.action == "allow" ? [each.value] : []
    content {
      protocol = allow.value.protocol
      ports    = allow.value.ports
    }
  }

  dynamic "deny" {
    for_each = each.value.action == "deny" ? [each.value] : []
    content {
      protocol = deny.value.protocol
      ports    = deny.value.ports
    }
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}
