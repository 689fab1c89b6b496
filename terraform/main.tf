locals {
  labels = merge(var.labels, {
    "airflow-cluster" = var.cluster_name
  })

  # Project services the cluster needs. Cloud Build can come later.
  services = toset([
    "compute.googleapis.com",
    "iap.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "oslogin.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
  ])

  # Airflow 3 ports (docs/gcp.md has the full table).
  redis_port       = 6379
  api_server_port  = 8080
  flower_port      = 5555
  log_server_first = 8793
}

resource "google_project_service" "this" {
  for_each = var.enable_apis ? local.services : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "iam" {
  source = "./modules/iam"

  project_id     = var.project_id
  cluster_name   = var.cluster_name
  deploy_account = var.deploy_trigger != null

  depends_on = [google_project_service.this]
}

module "network" {
  source = "./modules/network"

  project_id                      = var.project_id
  region                          = var.region
  cluster_name                    = var.cluster_name
  subnet_cidr                     = var.subnet_cidr
  sql_private_range_prefix_length = var.sql_private_range_prefix_length
  redis_port                      = local.redis_port
  api_server_port                 = local.api_server_port
  flower_port                     = local.flower_port
  log_server_ports = [
    local.log_server_first, local.log_server_first + var.max_worker_instances_per_vm - 1
  ]

  depends_on = [google_project_service.this]
}

module "storage" {
  source = "./modules/storage"

  project_id                = var.project_id
  cluster_name              = var.cluster_name
  location                  = coalesce(var.log_bucket_location, var.region)
  retention_days            = var.log_retention_days
  noncurrent_retention_days = var.log_noncurrent_retention_days
  force_destroy             = var.log_bucket_force_destroy
  writer_member             = module.iam.vm_service_account_member
  labels                    = local.labels

  depends_on = [google_project_service.this]
}

module "secrets" {
  source = "./modules/secrets"

  project_id      = var.project_id
  cluster_name    = var.cluster_name
  accessor_member = module.iam.vm_service_account_member
  labels          = local.labels

  depends_on = [google_project_service.this]
}

module "sql" {
  source = "./modules/sql"

  project_id          = var.project_id
  region              = var.region
  cluster_name        = var.cluster_name
  network_id          = module.network.network_id
  private_range_name  = module.network.sql_private_range_name
  database_version    = var.database_version
  tier                = var.database_tier
  edition             = var.database_edition
  availability_type   = var.database_availability_type
  disk_size_gb        = var.database_disk_size_gb
  deletion_protection = var.database_deletion_protection
  backup              = var.database_backup
  maintenance_window  = var.database_maintenance_window
  db_password         = module.secrets.db_password
  labels              = local.labels

  depends_on = [google_project_service.this]
}

module "vms" {
  source = "./modules/vms"

  project_id            = var.project_id
  zone                  = var.zone
  cluster_name          = var.cluster_name
  subnetwork            = module.network.subnetwork_self_link
  service_account_email = module.iam.vm_service_account_email
  main_tags             = module.network.main_tags
  worker_tags           = module.network.worker_tags
  worker_count          = var.worker_count
  worker_instances      = var.worker_instances_per_vm
  main_machine_type     = var.main_machine_type
  worker_machine_type   = var.worker_machine_type
  main_disk_size_gb     = var.main_disk_size_gb
  worker_disk_size_gb   = var.worker_disk_size_gb
  boot_disk_type        = var.boot_disk_type
  deletion_protection   = var.vm_deletion_protection
  labels                = local.labels

  # Package mirrors are reachable only once Cloud NAT exists.
  depends_on = [module.network]
}
