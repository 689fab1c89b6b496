variable "project_id" {
  description = "Project of the secrets."
  type        = string
}

variable "cluster_name" {
  description = "Cluster name; secret ids are <cluster_name>-<name with - for _>."
  type        = string
}

variable "specs" {
  description = "Secret name => {kind, length}: the cluster_secrets_specs list of ansible/roles/cluster_secrets/vars/main.yml, keyed by name."
  type = map(object({
    kind   = string
    length = number
  }))

  validation {
    condition     = alltrue([for s in values(var.specs) : contains(["password", "key32"], s.kind) && (s.kind != "key32" || s.length == 44)])
    error_message = "Each secret's kind must be password or key32 (44 characters: URL-safe base64 of 32 bytes)."
  }
}

variable "values" {
  description = "Secret name => value, for every name of specs. Ephemeral: written through secret_data_wo only."
  type        = map(string)
  sensitive   = true
  ephemeral   = true
}

variable "labels" {
  description = "Secret labels."
  type        = map(string)
  default     = {}
}
