# Network module: private subnet, NAT egress, and a firewall that opens only the cluster's flows.
mock_provider "google" {}

variables {
  project_id                      = "acme-data-prod"
  region                          = "europe-west1"
  cluster_name                    = "af"
  subnet_cidr                     = "10.10.0.0/24"
  sql_private_range_prefix_length = 20
  ports = {
    api              = 8080
    redis            = 6379
    flower           = 5555
    worker_log_first = 8793
    worker_log_last  = 8796
  }
}

run "network" {
  command = plan

  module {
    source = "./modules/network"
  }

  assert {
    condition     = google_compute_network.this.auto_create_subnetworks == false
    error_message = "The VPC must be custom-mode."
  }

  assert {
    condition     = google_compute_subnetwork.this.private_ip_google_access && length(google_compute_subnetwork.this.log_config) == 1
    error_message = "The subnet needs Private Google Access and flow logs."
  }

  assert {
    condition     = google_compute_router_nat.this.source_subnetwork_ip_ranges_to_nat == "LIST_OF_SUBNETWORKS" && google_compute_router_nat.this.nat_ip_allocate_option == "AUTO_ONLY"
    error_message = "Cloud NAT must serve the cluster subnet."
  }

  assert {
    condition     = google_service_networking_connection.sql.deletion_policy == "ABANDON"
    error_message = "terraform destroy abandons the private service connection instead of failing while Cloud SQL releases it."
  }

  assert {
    condition     = google_compute_global_address.sql_private_range.purpose == "VPC_PEERING" && google_compute_global_address.sql_private_range.address_type == "INTERNAL"
    error_message = "Cloud SQL gets an internal private service access range."
  }

  assert {
    condition = length(google_compute_firewall.this) == 5 && alltrue([for k, fw in google_compute_firewall.this :
      !contains(coalesce(fw.source_ranges, []), "0.0.0.0/0") && fw.name == "af-${k}"
    ])
    error_message = "Five rules named <cluster_name>-<rule>; none may allow 0.0.0.0/0."
  }

  assert {
    condition = toset([for k, fw in google_compute_firewall.this : k if fw.direction == "INGRESS"]) == toset([
      "allow-iap-ssh", "allow-iap-ui", "allow-workers-to-main", "allow-main-to-worker-logs",
    ])
    error_message = "Four ingress rules; the fifth rule is the worker VMs' egress deny."
  }

  assert {
    condition     = google_compute_firewall.this["allow-iap-ssh"].source_ranges == toset(["35.235.240.0/20"]) && google_compute_firewall.this["allow-iap-ui"].source_ranges == toset(["35.235.240.0/20"])
    error_message = "SSH and UI rules must allow only the IAP range 35.235.240.0/20."
  }

  assert {
    condition     = sort(flatten([for a in google_compute_firewall.this["allow-iap-ssh"].allow : a.ports])) == sort(["22"])
    error_message = "The IAP SSH rule opens port 22 only."
  }

  assert {
    condition     = sort(flatten([for a in google_compute_firewall.this["allow-iap-ui"].allow : a.ports])) == sort(["8080", "5555"]) && google_compute_firewall.this["allow-iap-ui"].target_tags == toset(["af-main"])
    error_message = "The IAP UI rule opens 8080 and 5555 on the main VM only."
  }

  assert {
    condition = (
      google_compute_firewall.this["allow-workers-to-main"].source_ranges == null
      && google_compute_firewall.this["allow-workers-to-main"].source_tags == toset(["af-worker"])
      && google_compute_firewall.this["allow-workers-to-main"].target_tags == toset(["af-main"])
      && sort(flatten([for a in google_compute_firewall.this["allow-workers-to-main"].allow : a.ports])) == sort(["6379", "8080"])
    )
    error_message = "Only workers reach Redis 6379 and the execution API 8080 on the main VM."
  }

  assert {
    condition = (
      google_compute_firewall.this["allow-main-to-worker-logs"].source_ranges == null
      && google_compute_firewall.this["allow-main-to-worker-logs"].source_tags == toset(["af-main"])
      && google_compute_firewall.this["allow-main-to-worker-logs"].target_tags == toset(["af-worker"])
      && sort(flatten([for a in google_compute_firewall.this["allow-main-to-worker-logs"].allow : a.ports])) == sort(["8793-8796"])
    )
    error_message = "Only the main VM reaches the worker log servers 8793..8793+N-1."
  }
}

run "single_log_port" {
  command = plan

  module {
    source = "./modules/network"
  }

  variables {
    ports = {
      api              = 8080
      redis            = 6379
      flower           = 5555
      worker_log_first = 8793
      worker_log_last  = 8793
    }
  }

  assert {
    condition     = sort(flatten([for a in google_compute_firewall.this["allow-main-to-worker-logs"].allow : a.ports])) == sort(["8793"])
    error_message = "One worker instance per VM opens port 8793 only."
  }
}

# apply (mocked): the deny rule names the private service access range's address, known only once the range
# exists; the override gives it a distinctive one.
run "workers_send_nothing_to_cloud_sql" {
  command = apply

  module {
    source = "./modules/network"
  }

  variables {
    sql_private_range_prefix_length = 22
  }

  override_resource {
    target = google_compute_global_address.sql_private_range
    values = { address = "10.77.4.0" }
  }

  assert {
    condition = (
      google_compute_firewall.this["deny-worker-egress-sql"].name == "af-deny-worker-egress-sql"
      && google_compute_firewall.this["deny-worker-egress-sql"].direction == "EGRESS"
      && google_compute_firewall.this["deny-worker-egress-sql"].target_tags == toset(["af-worker"])
      && google_compute_firewall.this["deny-worker-egress-sql"].destination_ranges == toset(["10.77.4.0/22"])
      && google_compute_firewall.this["deny-worker-egress-sql"].source_ranges == null
      && google_compute_firewall.this["deny-worker-egress-sql"].source_tags == null
    )
    error_message = "deny-worker-egress-sql is an egress rule of the worker VMs (their tag only) to Cloud SQL's private service access range."
  }

  assert {
    condition = (
      length(google_compute_firewall.this["deny-worker-egress-sql"].allow) == 0
      && length(google_compute_firewall.this["deny-worker-egress-sql"].deny) == 1
      && one(google_compute_firewall.this["deny-worker-egress-sql"].deny).protocol == "all"
      && one(google_compute_firewall.this["deny-worker-egress-sql"].deny).ports == null
    )
    error_message = "deny-worker-egress-sql denies every protocol and port, and allows nothing."
  }

  assert {
    condition = alltrue([for k, fw in google_compute_firewall.this :
      k == "deny-worker-egress-sql" || fw.direction == "INGRESS"
    ])
    error_message = "No egress rule other than the deny applies without Edge workers: nothing outranks it for the worker VMs."
  }

  assert {
    condition = alltrue([for k, fw in google_compute_firewall.this :
      !contains(coalesce(fw.target_tags, toset([])), "af-main") || fw.direction == "INGRESS"
    ])
    error_message = "No egress rule targets the main VM (it runs the database's clients), so neither does the deny."
  }
}
