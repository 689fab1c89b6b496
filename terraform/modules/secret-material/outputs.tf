output "values" {
  description = "Derived secret value per secret name."
  value       = local.values
  sensitive   = true
}
