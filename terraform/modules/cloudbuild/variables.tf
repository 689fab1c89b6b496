variable "project_id" {
  description = "Project of the cluster and its build."
  type        = string
}

variable "cluster_name" {
  description = "Cluster name; prefixes the account, trigger and secret ids."
  type        = string
}

variable "github_owner" {
  description = "GitHub owner (user or organisation) of the repository the trigger watches (connected to Cloud Build once, see docs/redeploy.md)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}$", var.github_owner))
    error_message = "github_owner must be a GitHub user or organisation name."
  }
}

variable "github_repo" {
  description = "Name of that GitHub repository."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,100}$", var.github_repo))
    error_message = "github_repo must be a GitHub repository name."
  }
}

variable "branch" {
  description = "Branch whose pushes are built and deployed."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.branch))
    error_message = "branch must be a plain branch name (it is anchored as ^name$ in the trigger)."
  }
}

variable "repo_url" {
  description = "URL the VMs clone with the read-only deploy key, e.g. git@github.com:OWNER/REPO.git."
  type        = string

  validation {
    condition     = can(regex("^(git@[^:]+:|ssh://|https://)", var.repo_url))
    error_message = "repo_url must be an SSH (git@host:path, ssh://) or https:// URL."
  }
}

variable "vm_service_account_email" {
  description = "Service account of the VMs: the build acts as it (SSH through OS Login) and it alone reads the deploy key."
  type        = string
}

variable "instance_names" {
  description = "Every Airflow VM (main and workers): the build may open IAP tunnels to and log in to these only."
  type        = list(string)
}

variable "zone" {
  description = "Zone of the VMs."
  type        = string
}

variable "cluster_secret_ids" {
  description = "Secret ids of the cluster's shared secrets. A config change runs site.yml from the build, which renders airflow.cfg with them."
  type        = map(string)
  default     = {}
}

variable "inventory_values" {
  description = "Terraform outputs the GCP Ansible inventory reads (name => value), handed to the build as _TF_OUTPUTS."
  type        = map(string)
  default     = {}
}

variable "build_service_account" {
  description = "The account builds run as (email, id, member), from ../iam (deploy_account = true)."
  type = object({
    email  = string
    id     = string
    member = string
  })
}
