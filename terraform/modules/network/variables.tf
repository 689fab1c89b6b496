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

variable "redis_port" {
  description = "Redis port on the main VM."
  type        = number
}

variable "api_server_port" {
  description = "Airflow API server port on the main VM."
  type        = number
}

variable "flower_port" {
  description = "Flower port on the main VM."
  type        = number
}

variable "log_server_ports" {
  description = "First and last worker log-server port, inclusive."
  type        = list(number)

  validation {
    condition     = length(var.log_server_ports) == 2 && var.log_server_ports[0] <= var.log_server_ports[1]
    error_message = "log_server_ports must be [first, last] with first <= last."
  }
}
