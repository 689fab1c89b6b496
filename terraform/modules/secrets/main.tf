locals {
  # Secret name (id suffix) => shape. The Ansible cluster_secrets role reads
  # <cluster_name>-<name> from Secret Manager.
  secrets = {
    "db-password"     = "password"
    "fernet-key"      = "fernet"
    "jwt-secret"      = "long"
    "api-secret-key"  = "password"
    "redis-password"  = "password"
    "admin-password"  = "password"
    "flower-password" = "password"
  }
}

# One random seed per secret, drawn once at create time and then kept: ignore_changes
# stops uuid() from producing a new value on every plan. Rotate one secret with
#   terraform apply -replace='module.secrets.terraform_data.seed["fernet-key"]'
resource "terraform_data" "seed" {
  for_each = local.secrets

  input = [uuid(), uuid(), uuid()]

  lifecycle {
    ignore_changes = [input]
  }
}

module "material" {
  source = "../secret-material"

  seeds = { for name, seed in terraform_data.seed : name => seed.output }
  kinds = local.secrets
}

resource "google_secret_manager_secret" "this" {
  for_each = local.secrets

  project   = var.project_id
  secret_id = "${var.cluster_name}-${each.key}"
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "this" {
  for_each = local.secrets

  secret      = google_secret_manager_secret.this[each.key].id
  secret_data = module.material.values[each.key]
}

# Per-secret grant: the VM account reads this cluster's secrets and no others.
resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = local.secrets

  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.key].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = var.accessor_member
}
