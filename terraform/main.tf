locals {
  labels = merge(var.labels, {
    "airflow-cluster" = var.cluster_name
  })

  # Project services the cluster needs. Cloud Build can come later.
  # Service Usage itself must be on before Terraform can enable anything (docs/gcp.md's first steps do it).
  services = toset([
    "cloudresourcemanager.googleapis.com", # project IAM grants
    "compute.googleapis.com",
    "iam.googleapis.com", # the VMs' and builds' service accounts
    "iap.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "oslogin.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
  ])

  # The cluster's shape as the Ansible roles define it (ports, worker instances per host): read from the
  # roles' defaults so each value is written once. The file's other values are Jinja strings, unused here.
  airflow = yamldecode(file("${path.module}/../ansible/roles/airflow_base/defaults/main.yml"))

  # Celery worker instances on each host of airflow_workers (null: the roles' default).
  worker_instances = coalesce(var.airflow_worker_instances, local.airflow.airflow_worker_instances)
}

resource "google_project_service" "this" {
  for_each = var.enable_apis ? local.services : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

module "iam" {
  source = "./modules/iam"

  project_id          = var.project_id
  cluster_name        = var.cluster_name
  worker_account      = var.worker_count > 0
  deploy_account      = var.deploy_trigger != null
  edge_account        = var.edge_worker_count > 0
  edge_tunnel_members = var.edge_tunnel_members

  depends_on = [google_project_service.this]
}

module "network" {
  source = "./modules/network"

  project_id                      = var.project_id
  region                          = var.region
  cluster_name                    = var.cluster_name
  subnet_cidr                     = var.subnet_cidr
  sql_private_range_prefix_length = var.sql_private_range_prefix_length
  edge_workers                    = var.edge_worker_count > 0
  ports = {
    api              = local.airflow.airflow_api_port
    redis            = local.airflow.airflow_redis_port
    flower           = local.airflow.airflow_flower_port
    worker_log_first = local.airflow.airflow_worker_log_server_port
    worker_log_last  = local.airflow.airflow_worker_log_server_port + local.worker_instances - 1
  }

  depends_on = [google_project_service.this]
}

module "storage" {
  source = "./modules/storage"

  project_id                = var.project_id
  cluster_name              = var.cluster_name
  location                  = coalesce(var.log_bucket_location, var.region)
  retention_days            = var.log_retention_days
  noncurrent_retention_days = var.log_noncurrent_retention_days
  soft_delete_days          = var.log_soft_delete_days
  force_destroy             = var.log_bucket_force_destroy
  # Every account whose VMs write task logs, by a key known at plan time (the emails are not, before the
  # accounts exist): main, worker (with worker VMs), edge (with Edge workers).
  writers = merge(
    { for kind, account in module.iam.vm_service_accounts : kind => account.member },
    var.edge_worker_count > 0 ? { edge = module.iam.edge_service_account.member } : {},
  )
  labels = local.labels

  depends_on = [google_project_service.this]
}

# --- the cluster's shared secrets ------------------------------------------------------------------
# Which secrets exist and their shapes: ansible/roles/cluster_secrets/vars/main.yml, the list the Ansible
# side reads too. Each value is drawn by an ephemeral resource on every run and only reaches write-only
# arguments (Secret Manager, the Cloud SQL user), so no value is ever in a plan or the state. The secrets
# are read by the operator's credentials when site.yml runs (and by the deploy builds' account,
# modules/cloudbuild), never by the VMs: the VM account has no grant on them.
locals {
  secret_specs = {
    for s in yamldecode(file("${path.module}/../ansible/roles/cluster_secrets/vars/main.yml")).cluster_secrets_specs :
    s.name => { kind = s.kind, length = s.length }
  }
}

# password: letters and digits only (the values end up inside redis:// and postgresql:// URLs).
ephemeral "random_password" "secret" {
  for_each = { for name, s in local.secret_specs : name => s if s.kind == "password" }

  length  = each.value.length
  special = false
}

# key32: URL-safe base64 of 32 random bytes, with its one "=" of padding (a Fernet key, an Ed25519 seed).
ephemeral "random_bytes" "secret" {
  for_each = { for name, s in local.secret_specs : name => s if s.kind == "key32" }

  length = 32
}

locals {
  secret_values = merge(
    { for name, p in ephemeral.random_password.secret : name => p.result },
    { for name, b in ephemeral.random_bytes.secret : name => replace(replace(b.base64, "+", "-"), "/", "_") },
  )
}

module "secrets" {
  source = "./modules/secrets"

  project_id   = var.project_id
  cluster_name = var.cluster_name
  specs        = local.secret_specs
  values       = local.secret_values
  labels       = local.labels

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
  max_connections     = var.database_max_connections
  deletion_protection = var.database_deletion_protection
  backup              = var.database_backup
  maintenance_window  = var.database_maintenance_window
  # Set on the user at creation, and again whenever the db_password secret gets a new version (rotation).
  db_password         = local.secret_values["db_password"]
  db_password_version = module.secrets.versions["db_password"]
  labels              = local.labels

  depends_on = [google_project_service.this]
}

module "vms" {
  source = "./modules/vms"

  project_id                   = var.project_id
  zone                         = var.zone
  cluster_name                 = var.cluster_name
  subnetwork                   = module.network.subnetwork_self_link
  main_service_account_email   = module.iam.vm_service_accounts.main.email
  worker_service_account_email = try(module.iam.vm_service_accounts.worker.email, null)
  main_tags                    = module.network.main_tags
  worker_tags                  = module.network.worker_tags
  worker_count                 = var.worker_count
  main_machine_type            = var.main_machine_type
  worker_machine_type          = var.worker_machine_type
  main_disk_size_gb            = var.main_disk_size_gb
  worker_disk_size_gb          = var.worker_disk_size_gb
  boot_disk_type               = var.boot_disk_type
  deletion_protection          = var.vm_deletion_protection
  labels                       = local.labels

  # Edge workers: their own account (null without them), tag and size.
  edge_count                 = var.edge_worker_count
  edge_service_account_email = try(module.iam.edge_service_account.email, null)
  edge_tags                  = module.network.edge_tags
  edge_machine_type          = var.edge_machine_type
  edge_disk_size_gb          = var.edge_disk_size_gb
  # Edge workers outside Google Cloud: an IAP tunnel to the main VM's API port, and nothing else.
  main_api_tunnel_members = var.edge_tunnel_members
  api_port                = local.airflow.airflow_api_port

  # Package mirrors are reachable only once Cloud NAT exists.
  depends_on = [module.network]
}

# --- alerts and a dashboard (modules/monitoring, docs/gcp.md "Monitoring and alerts") -------------------
# The rules select the cluster's series by VM name and Cloud SQL instance, so clusters can share a project.
module "monitoring" {
  source = "./modules/monitoring"

  project_id        = var.project_id
  cluster_name      = var.cluster_name
  vm_names          = concat([module.vms.main_instance_name], module.vms.worker_instance_names, module.vms.edge_instance_names)
  sql_instance_name = "${var.cluster_name}-pg" # modules/sql names the instance so; it has no output for it
  labels            = local.labels

  # Unset fields are null: the module's defaults apply.
  enabled               = var.monitoring.enabled
  notification_channels = var.monitoring.notification_channels
  email_addresses       = var.monitoring.email_addresses
  evaluation_interval   = var.monitoring.evaluation_interval
  thresholds            = var.monitoring.thresholds
  rules                 = var.monitoring.rules

  depends_on = [google_project_service.this]
}

locals {
  # The one Terraform -> Ansible contract (output "ansible", and the deploy builds' _TF_OUTPUTS).
  ansible = {
    project_id   = var.project_id
    region       = var.region
    zone         = var.zone
    cluster_name = var.cluster_name
    main_vm_name = module.vms.main_instance_name
    # Empty with worker_count = 0: the main VM is then the one host of airflow_workers (all-in-one).
    worker_vm_names = module.vms.worker_instance_names
    # Ansible pins each VM's SSH host key under its instance id (HostKeyAlias compute.<id>, as gcloud does).
    vm_instance_ids          = module.vms.instance_ids
    airflow_worker_instances = local.worker_instances
    db_host                  = module.sql.private_ip
    db_port                  = 5432 # Cloud SQL for PostgreSQL's only port
    db_name                  = module.sql.database_name
    db_user                  = module.sql.database_user
    db_server_ca_cert        = module.sql.server_ca_cert
    db_max_connections       = var.database_max_connections
    log_bucket_url           = module.storage.bucket_url
    # Secret Manager id per secret name of ansible/roles/cluster_secrets/vars/main.yml.
    secret_ids = module.secrets.secret_ids
  }

  # Keys present only when their feature is on, so a cluster without it hands Ansible (and the deploy
  # trigger's _TF_OUTPUTS substitution) exactly the object it had before the feature existed. The GCP
  # inventory reads a missing key as empty.
  ansible_optional = {
    # The Edge worker VMs (group airflow_edge_workers).
    edge_vm_names = var.edge_worker_count > 0 ? module.vms.edge_instance_names : null
  }

  ansible_output = merge(local.ansible, { for k, v in local.ansible_optional : k => v if v != null })
}
