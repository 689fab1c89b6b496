output "network_id" {
  description = "Id of the VPC."
  value       = google_compute_network.this.id
}

output "subnetwork_self_link" {
  description = "Self link of the cluster subnet."
  value       = google_compute_subnetwork.this.self_link
}

output "sql_private_range_name" {
  description = "Name of the private service access range; depends on the peering being in place."
  value       = google_compute_global_address.sql_private_range.name
  depends_on  = [google_service_networking_connection.sql]
}

output "main_tags" {
  description = "Network tags for the main VM."
  value       = [local.main_tag]
}

output "worker_tags" {
  description = "Network tags for worker VMs."
  value       = [local.worker_tag]
}

output "edge_tags" {
  description = "Network tags for Edge worker VMs."
  value       = [local.edge_tag]
}

output "firewall_rule_names" {
  description = "Keys of the firewall rules created (each rule is named <cluster_name>-<key>)."
  value       = keys(google_compute_firewall.this)
}
