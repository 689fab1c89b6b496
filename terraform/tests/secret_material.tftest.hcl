# Shapes of the generated secrets, checked on fixed seeds (the real seeds are random UUIDs).
variables {
  seeds = {
    "db-password"    = ["3f2c8a10-5b7e-4d21-9a4c-0e6f1b2d3c4a", "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"]
    "fernet-key"     = ["3f2c8a10-5b7e-4d21-9a4c-0e6f1b2d3c4a", "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"]
    "jwt-secret"     = ["11111111-2222-4333-8444-555555555555", "66666666-7777-4888-9999-aaaaaaaaaaaa", "bbbbbbbb-cccc-4ddd-beee-ffffffffffff"]
    "redis-password" = ["3f2c8a10-5b7e-4d21-9a4c-0e6f1b2d3c4a", "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"]
  }
  kinds = {
    "db-password"    = "password"
    "fernet-key"     = "fernet"
    "jwt-secret"     = "long"
    "redis-password" = "password"
  }
}

run "shapes" {
  command = plan

  module {
    source = "./modules/secret-material"
  }

  assert {
    condition     = can(regex("^[A-Za-z0-9_-]{43}=$", output.values["fernet-key"]))
    error_message = "The Fernet key must be URL-safe base64 of 32 bytes with its padding: 43 characters and one '='."
  }

  assert {
    condition     = length(output.values["jwt-secret"]) >= 64 && can(regex("^[0-9a-f]+$", output.values["jwt-secret"]))
    error_message = "The JWT secret must be at least 64 characters."
  }

  assert {
    condition     = alltrue([for n in ["db-password", "redis-password"] : can(regex("^[0-9A-Za-z]{32,}$", output.values[n]))])
    error_message = "Passwords must be alphanumeric (they end up inside URLs) and at least 32 characters."
  }

  assert {
    condition     = output.values["db-password"] != output.values["redis-password"]
    error_message = "Secrets derived from the same seed must still differ (the name is part of the input)."
  }
}

run "unknown_kind_rejected" {
  command = plan

  module {
    source = "./modules/secret-material"
  }

  variables {
    kinds = { "db-password" = "pin" }
  }

  expect_failures = [var.kinds]
}
