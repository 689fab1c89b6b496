terraform {
  # 1.11: write-only arguments (secret_data_wo, password_wo); 1.10: ephemeral resources. Together they keep
  # every generated secret out of the plan and the state.
  required_version = ">= 1.11.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.45"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.9"
    }
  }

  # Remote state in a GCS bucket, configured at init (docs/gcp.md, "State bucket"):
  #   terraform init -backend-config="bucket=<bucket>" -backend-config="prefix=<cluster_name>"
  # The kit's checks run `init -backend=false`.
  backend "gcs" {}
}
