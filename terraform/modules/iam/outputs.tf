output "vm_service_account_email" {
  description = "Email of the VM service account."
  value       = google_service_account.vm.email
}

output "vm_service_account_member" {
  description = "IAM member string of the VM service account."
  value       = "serviceAccount:${google_service_account.vm.email}"
}
