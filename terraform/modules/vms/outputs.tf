output "main_instance_name" {
  description = "Name of the main VM."
  value       = google_compute_instance.this["${var.cluster_name}-main"].name
}

output "worker_instance_names" {
  description = "Names of the worker VMs, in order (empty with worker_count = 0)."
  value       = [for i in range(1, var.worker_count + 1) : google_compute_instance.this["${var.cluster_name}-worker-${i}"].name]
}

output "instance_ids" {
  description = "Each VM's numeric instance id, by name: a VM recreated under the same name gets a new one."
  value       = { for name, vm in google_compute_instance.this : name => vm.instance_id }
}

output "edge_instance_names" {
  description = "Names of the Edge worker VMs, in order (empty with edge_count = 0)."
  value       = [for i in range(1, var.edge_count + 1) : google_compute_instance.this["${var.cluster_name}-edge-${i}"].name]
}
