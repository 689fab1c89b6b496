output "bucket_url" {
  description = "gs:// URL of the task-log bucket."
  value       = "gs://${google_storage_bucket.logs.name}"
}
