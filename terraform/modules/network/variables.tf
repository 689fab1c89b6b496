variable "project_id" {
  description = "Project of the network."
  type        = string
}

variable "region" {
  description = "Region of the subnet, router and NAT."
  type        = string
}

variable "cluster_name" {
  description = "Cluster name; prefixes resource names and network tags."
  type        = string
}

variable "subnet_cidr" {
  description = "Primary range of the subnet."
  type        = string
}

variable "sql_private_range_prefix_length" {
  description = "Prefix length of the private service access range."
  type        = number
}

variable "ports" {
  description = "TCP ports the firewall opens: api (API server), redis, flower on the main VM; worker_log_first..worker_log_last (inclusive) on the workers."
  type = object({
    api              = number
    redis            = number
    flower           = number
    worker_log_first = number
    worker_log_last  = number
  })

  validation {
    condition     = var.ports.worker_log_first <= var.ports.worker_log_last
    error_message = "ports.worker_log_first must not be above ports.worker_log_last."
  }
}

variable "edge_workers" {
  description = "The cluster has Airflow Edge worker VMs (tag <cluster_name>-edge): adds them to the IAP SSH rule, lets them reach the API port of the main VM, and denies them every other destination inside the VPC."
  type        = bool
  default     = false
}
