output "main_instance_name" {
  description = "Name of the main VM."
  value       = google_compute_instance.this["${var.cluster_name}-main"].name
}

output "worker_instance_names" {
  description = "Names of the worker VMs, in order."
  value       = [for i in range(1, var.worker_count + 1) : google_compute_instance.this["${var.cluster_name}-worker-${i}"].name]
}

output "instances" {
  description = "Every VM: name => {role, zone}."
  value       = { for name, vm in google_compute_instance.this : name => { role = local.instances[name].role, zone = vm.zone } }
}
