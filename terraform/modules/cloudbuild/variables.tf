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

variable "approval_required" {
  description = "Hold every deploy build until someone with roles/cloudbuild.builds.approver approves it (the DAG-test builds never wait)."
  type        = bool
  default     = true
}

variable "create_build_topic" {
  description = "Create the project's cloud-builds Pub/Sub topic, where Cloud Build announces finished builds (false: it exists already)."
  type        = bool
  default     = true
}

variable "repo_url" {
  description = "URL the VMs clone with the read-only deploy key, e.g. git@github.com:OWNER/REPO.git."
  type        = string

  validation {
    condition     = can(regex("^(git@[^:]+:|ssh://|https://)", var.repo_url))
    error_message = "repo_url must be an SSH (git@host:path, ssh://) or https:// URL."
  }
}

variable "vm_service_account_emails" {
  description = "The main and worker VMs' accounts, by a key known at plan time (main, worker): the deploy build acts as them (SSH through OS Login) and they alone read the deploy key."
  type        = map(string)

  validation {
    condition     = contains(keys(var.vm_service_account_emails), "main")
    error_message = "vm_service_account_emails must hold the main VM's account (key main)."
  }
}

variable "edge_service_account_email" {
  description = "Service account of the Edge worker VMs (null without them): the build acts as it to log in to them. It reads no secret, not even the deploy key."
  type        = string
  default     = null

  validation {
    condition     = length(try(var.ansible.edge_vm_names, [])) == 0 || var.edge_service_account_email != null
    error_message = "edge_service_account_email is required when the ansible object lists edge_vm_names."
  }
}

variable "test_service_account" {
  description = "The account the DAG-test builds run as (email, id, member), from ../iam (deploy_account = true): build logs only."
  type = object({
    email  = string
    id     = string
    member = string
  })
}

variable "build_service_account" {
  description = "The account the deploy builds run as (email, id, member), from ../iam (deploy_account = true)."
  type = object({
    email  = string
    id     = string
    member = string
  })
}

variable "ansible" {
  description = "The root's ansible output object, whole: project_id, zone, cluster_name, main_vm_name, worker_vm_names and secret_ids are read from it, and all of it goes to the build as _TF_OUTPUTS (what the GCP inventory reads)."
  # any, not an object type: an object type would drop the attributes it does not name from _TF_OUTPUTS.
  type = any

  validation {
    condition     = length(setsubtract(["project_id", "zone", "cluster_name", "main_vm_name", "worker_vm_names", "secret_ids"], keys(var.ansible))) == 0
    error_message = "ansible must be the root module's ansible object (project_id, zone, cluster_name, main_vm_name, worker_vm_names, secret_ids, ...)."
  }
}
