#!/usr/bin/env python3
"""Add the handful of schema fields the kit uses to the offline stand-in google provider.

Why this exists: the only hashicorp/terraform-provider-google sources the Go module
proxy serves here are v1.20.0 (plugin protocol 4, unusable with Terraform 1.x) and two
pseudo-versions from the v4 line. The newest, a commit from the 4.9.0 development
cycle, is built as the offline stand-in. The kit itself pins a current provider (see
terraform/versions.tf); its schema has these fields, which the v4 line lacks:

  google_sql_database_instance  settings.edition, settings.deletion_protection_enabled,
                                settings.ip_configuration.ssl_mode
  google_storage_bucket         public_access_prevention
  google_secret_manager_secret  replication.auto (replaces replication.automatic)

Only schema entries are added (Terraform runs the stand-in under mock_provider, so no
CRUD code runs). Each edit is anchored on an exact source string; a missing anchor
fails the build instead of building something silently different.

Usage: patch_google_provider.py SOURCE_DIR
"""

from __future__ import annotations

import pathlib
import sys

MARKER = "// airflow-gcp-kit offline stand-in patch"

SQL_SSL_MODE = f"""{MARKER}
									"ssl_mode": {{
										Type:         schema.TypeString,
										Optional:     true,
										Computed:     true,
										ValidateFunc: validation.StringInSlice([]string{{"ALLOW_UNENCRYPTED_AND_ENCRYPTED", "ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"}}, false),
									}},
"""

SQL_SETTINGS = f"""{MARKER}
						"edition": {{
							Type:         schema.TypeString,
							Optional:     true,
							Computed:     true,
							ValidateFunc: validation.StringInSlice([]string{{"ENTERPRISE", "ENTERPRISE_PLUS"}}, false),
						}},
						"deletion_protection_enabled": {{
							Type:     schema.TypeBool,
							Optional: true,
							Computed: true,
						}},
"""

BUCKET_PAP = f"""{MARKER}
			"public_access_prevention": {{
				Type:         schema.TypeString,
				Optional:     true,
				Computed:     true,
				ValidateFunc: validation.StringInSlice([]string{{"inherited", "enforced"}}, false),
			}},
"""

SECRET_AUTO = f"""{MARKER}
						"auto": {{
							Type:         schema.TypeList,
							Optional:     true,
							ForceNew:     true,
							MaxItems:     1,
							ExactlyOneOf: []string{{"replication.0.automatic", "replication.0.user_managed", "replication.0.auto"}},
							Elem: &schema.Resource{{
								Schema: map[string]*schema.Schema{{
									"customer_managed_encryption": {{
										Type:     schema.TypeList,
										Optional: true,
										ForceNew: true,
										MaxItems: 1,
										Elem: &schema.Resource{{
											Schema: map[string]*schema.Schema{{
												"kms_key_name": {{
													Type:     schema.TypeString,
													Required: true,
													ForceNew: true,
												}},
											}},
										}},
									}},
								}},
							}},
						}},
"""

# (file, anchor, text inserted before the anchor, extra (old, new) replacements)
EDITS = [
    (
        "google/resource_sql_database_instance.go",
        '									"private_network": {\n',
        SQL_SSL_MODE,
        [],
    ),
    (
        "google/resource_sql_database_instance.go",
        '						"tier": {\n',
        SQL_SETTINGS,
        [],
    ),
    (
        "google/resource_storage_bucket.go",
        '			"uniform_bucket_level_access": {\n',
        BUCKET_PAP,
        [],
    ),
    (
        "google/resource_secret_manager_secret.go",
        '						"user_managed": {\n',
        SECRET_AUTO,
        [
            (
                'ExactlyOneOf: []string{"replication.0.automatic", "replication.0.user_managed"},',
                'ExactlyOneOf: []string{"replication.0.automatic", "replication.0.user_managed", "replication.0.auto"},',
            ),
        ],
    ),
]


def patch(root: pathlib.Path) -> None:
    by_file: dict[str, str] = {}
    for rel, anchor, insert, replacements in EDITS:
        text = by_file.get(rel)
        if text is None:
            text = (root / rel).read_text()
        if text.count(anchor) != 1:
            sys.exit(f"patch: anchor {anchor.strip()!r} found {text.count(anchor)} times in {rel}, expected 1")
        text = text.replace(anchor, insert + anchor)
        for old, new in replacements:
            if text.count(old) < 1:
                sys.exit(f"patch: {old!r} not found in {rel}")
            text = text.replace(old, new)
        by_file[rel] = text
    for rel, text in by_file.items():
        (root / rel).write_text(text)
    print(f"patch: {len(EDITS)} schema edits applied to {root}")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = pathlib.Path(sys.argv[1])
    probe = (root / EDITS[0][0]).read_text()
    if MARKER in probe:
        print(f"patch: {root} already patched")
        return
    patch(root)


if __name__ == "__main__":
    main()
