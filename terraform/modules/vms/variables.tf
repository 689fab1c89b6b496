variable "project_id" {
  description = "Project of the VMs."
  type        = string
}

variable "zone" {
  description = "Zone of the VMs."
  type        = string
}

variable "cluster_name" {
  description = "Cluster name; VMs are <cluster_name>-main, <cluster_name>-worker-1..N and <cluster_name>-edge-1..N."
  type        = string
}

variable "subnetwork" {
  description = "Self link of the subnet."
  type        = string
}

variable "main_service_account_email" {
  description = "Service account the main VM runs as."
  type        = string
}

variable "worker_service_account_email" {
  description = "Service account the Celery worker VMs run as (not the main VM's); required with worker_count > 0."
  type        = string
  default     = null

  validation {
    condition     = var.worker_count == 0 || var.worker_service_account_email != null
    error_message = "worker_service_account_email is required when worker_count > 0: worker VMs never run as the main VM's account."
  }
}

variable "main_tags" {
  description = "Network tags of the main VM."
  type        = list(string)
}

variable "worker_tags" {
  description = "Network tags of worker VMs."
  type        = list(string)
}

variable "worker_count" {
  description = "Number of worker VMs; 0 for one all-in-one VM."
  type        = number
}

variable "main_machine_type" {
  description = "Machine type of the main VM."
  type        = string
}

variable "worker_machine_type" {
  description = "Machine type of worker VMs."
  type        = string
}

variable "main_disk_size_gb" {
  description = "Boot disk size of the main VM."
  type        = number
}

variable "worker_disk_size_gb" {
  description = "Boot disk size of worker VMs."
  type        = number
}

variable "boot_disk_type" {
  description = "Boot disk type."
  type        = string
}

variable "edge_count" {
  description = "Number of Airflow Edge worker VMs (<cluster_name>-edge-1..N); 0: none."
  type        = number
  default     = 0
}

variable "edge_machine_type" {
  description = "Machine type of Edge worker VMs."
  type        = string
  default     = "e2-standard-4"
}

variable "edge_disk_size_gb" {
  description = "Boot disk size of Edge worker VMs."
  type        = number
  default     = 50
}

variable "edge_tags" {
  description = "Network tags of Edge worker VMs."
  type        = list(string)
  default     = []
}

variable "edge_service_account_email" {
  description = "Service account the Edge worker VMs run as (not the main and worker VMs' account); required with edge_count > 0."
  type        = string
  default     = null

  validation {
    condition     = var.edge_count == 0 || var.edge_service_account_email != null
    error_message = "edge_service_account_email is required when edge_count > 0: Edge workers never run as the main and worker VMs' account."
  }
}

variable "main_api_tunnel_members" {
  description = "IAM principals that may open an IAP TCP tunnel to the main VM, to api_port only (Edge workers outside Google Cloud)."
  type        = list(string)
  default     = []
}

variable "api_port" {
  description = "The API server's port on the main VM: the only port main_api_tunnel_members may tunnel to. Required with main_api_tunnel_members."
  type        = number
  default     = null

  validation {
    condition     = length(var.main_api_tunnel_members) == 0 || try(var.api_port >= 1 && var.api_port <= 65535, false)
    error_message = "api_port must be a TCP port (1-65535) when main_api_tunnel_members is set."
  }
}

variable "image" {
  description = "Boot image (Debian 12 is what the Ansible roles are tested on)."
  type        = string
  default     = "debian-cloud/debian-12"
}

variable "deletion_protection" {
  description = "Compute Engine deletion protection."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels; airflow-role is added per VM."
  type        = map(string)
  default     = {}
}
