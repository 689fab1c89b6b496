# Pure derivation: turns per-secret random seeds into values of the shape each consumer
# needs. No resources, so `terraform test` can check the shapes with plan alone.
#
# Each seed is a list of random v4 UUIDs (122 random bits each, from the OS CSPRNG via
# Terraform's uuid()). A value is a SHA-2 digest over the seed and the secret's name, so
# the values are independent of each other and carry up to 256 (SHA-256) or 512 (SHA-512)
# bits of the seed's entropy.
locals {
  input = { for name, seed in var.seeds : name => join("/", concat([name], seed)) }

  shapes = {
    # Alphanumeric (hex) passwords: safe inside redis:// and postgresql:// URLs.
    password = { for name, s in local.input : name => sha256(s) }
    # Fernet: URL-safe base64 of exactly 32 bytes, with its one "=" of padding (44 chars).
    fernet = { for name, s in local.input : name => replace(replace(base64sha256(s), "+", "-"), "/", "_") }
    # 128 hex characters: [api_auth] jwt_secret wants at least 64 bytes.
    long = { for name, s in local.input : name => sha512(s) }
  }

  values = { for name, kind in var.kinds : name => local.shapes[kind][name] }
}
