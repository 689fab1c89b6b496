# The cluster secrets: one per entry of ansible/roles/cluster_secrets/vars/main.yml, values drawn by the
# real random provider's ephemeral resources and written through write-only arguments, so neither the plan
# nor the state holds one. The google provider is mocked; `apply` runs against the mock.
mock_provider "google" {
  mock_resource "google_secret_manager_secret_version" {
    defaults = {
      # A distinctive version number: the output must pass through what Secret Manager assigned (a real first
      # version is 1, which a module that hard-coded 1 would also give).
      version = "7"
    }
  }
  mock_resource "google_compute_network" {
    defaults = {
      id = "projects/acme-data-prod/global/networks/af-vpc"
    }
  }
  mock_resource "google_sql_database_instance" {
    defaults = {
      server_ca_cert = [{ cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" }]
    }
  }
}

variables {
  project_id   = "acme-data-prod"
  cluster_name = "af"
}

run "whole_cluster_applies_on_generated_secrets" {
  command = apply

  assert {
    condition = output.ansible.secret_ids == {
      for s in yamldecode(file("../ansible/roles/cluster_secrets/vars/main.yml")).cluster_secrets_specs :
      s.name => "af-${replace(s.name, "_", "-")}"
    }
    error_message = "After apply, secret_ids still name one secret per cluster_secrets_specs entry."
  }
}

run "module_versions_are_write_only" {
  command = apply

  module {
    source = "./modules/secrets"
  }

  variables {
    specs = {
      sample_password = { kind = "password", length = 32 }
      sample_key      = { kind = "key32", length = 44 }
    }
    values = {
      sample_password = "correct-horse-battery-staple-0123"
      sample_key      = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
    }
  }

  assert {
    condition     = toset([for s in google_secret_manager_secret.this : s.secret_id]) == toset(["af-sample-password", "af-sample-key"])
    error_message = "Secret ids are <cluster_name>-<name with - for _>."
  }

  assert {
    condition = alltrue([for v in google_secret_manager_secret_version.this :
    v.secret_data == null && v.secret_data_wo == null && v.secret_data_wo_version == 1 && v.deletion_policy == "DISABLE"])
    error_message = "The state holds no secret value (secret_data_wo only); a replaced version is disabled, not destroyed."
  }

  assert {
    condition     = alltrue([for s in google_secret_manager_secret.this : length(s.replication[0].auto) == 1])
    error_message = "Secrets use automatic replication."
  }

  assert {
    condition     = output.versions == { sample_password = 7, sample_key = 7 }
    error_message = "versions gives each secret's Secret Manager version number."
  }
}

run "unknown_kind_is_rejected" {
  command = plan

  module {
    source = "./modules/secrets"
  }

  variables {
    specs  = { sample_pin = { kind = "pin", length = 6 } }
    values = { sample_pin = "123456" }
  }

  expect_failures = [var.specs]
}
