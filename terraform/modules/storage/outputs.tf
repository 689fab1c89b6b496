output "bucket_name" {
  description = "Name of the task-log bucket."
  value       = google_storage_bucket.logs.name
}

output "bucket_url" {
  description = "gs:// URL of the task-log bucket."
  value       = "gs://${google_storage_bucket.logs.name}"
}
