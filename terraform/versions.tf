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

# Every resource names its project itself; the provider's project and billing project are for the API calls that
# need one. With user credentials (gcloud auth application-default login) Google bills those calls to the quota
# project, which a fresh project's ADC may lack: user_project_override sends billing_project with each call.
provider "google" {
  project               = var.project_id
  region                = var.region
  billing_project       = var.project_id
  user_project_override = true
}
