variable "seeds" {
  description = "Random seed (list of strings) per secret name."
  type        = map(list(string))
  sensitive   = true
}

variable "kinds" {
  description = "Shape per secret name: password, fernet or long."
  type        = map(string)

  validation {
    condition     = alltrue([for k in values(var.kinds) : contains(["password", "fernet", "long"], k)])
    error_message = "kinds values must be password, fernet or long."
  }
}
