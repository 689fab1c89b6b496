terraform {
  # 1.9: variable validations may refer to other variables (zone-in-region check).
  required_version = ">= 1.9.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Exact pin. The offline checks run against a stand-in for this release
      # (scripts/terraform-toolchain.sh); see docs/gcp.md "Offline validation".
      version = "= 6.50.0"
    }
  }
}
