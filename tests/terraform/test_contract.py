"""Static contract checks between terraform/ and ansible/inventories/gcp/.

Runs under pytest, or on its own with plain Python 3 (no extra packages), which is how
scripts/terraform-checks.sh runs it. The checks read files only: no Terraform, no network.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
TF = ROOT / "terraform"
INV = ROOT / "ansible" / "inventories" / "gcp"

SECRET_NAMES = {
    "db-password", "fernet-key", "jwt-secret", "api-secret-key",
    "redis-password", "admin-password", "flower-password",
}
ANSIBLE_VARS = {
    "airflow_cluster_name", "airflow_db_host", "airflow_db_port", "airflow_db_name",
    "airflow_db_user", "airflow_db_sslmode", "airflow_db_ssl_root_cert",
    "airflow_remote_log_bucket", "cluster_secrets_backend", "cluster_secrets_gcp_project",
    "airflow_postgresql_local",
}
CONSUMED_OUTPUTS = {
    "project_id", "region", "zone", "cluster_name", "main_instance_name",
    "worker_instance_names", "db_private_ip", "db_connection_name", "db_server_ca_cert",
    "log_bucket_url", "vm_service_account_email", "secret_ids",
}


def tf_files() -> list[pathlib.Path]:
    return sorted(p for p in TF.rglob("*.tf") if ".terraform" not in p.parts)


def strip_comments(text: str) -> str:
    return "\n".join(re.sub(r"(^|\s)(#|//).*$", "", line) for line in text.splitlines())


def top_level_keys(path: pathlib.Path) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^([A-Za-z_][A-Za-z0-9_]*):", path.read_text(), re.M)}


def test_no_open_ingress_anywhere() -> None:
    for path in tf_files():
        assert "0.0.0.0/0" not in strip_comments(path.read_text()), f"{path}: 0.0.0.0/0"


def test_no_external_ip_blocks() -> None:
    for path in tf_files():
        code = strip_comments(path.read_text())
        assert not re.search(r"\baccess_config\s*\{", code), f"{path}: access_config gives an external IP"


def test_project_iam_only_in_iam_module_and_no_primitive_roles() -> None:
    for path in tf_files():
        code = strip_comments(path.read_text())
        if re.search(r'resource\s+"google_project_iam_', code):
            assert path.parent == TF / "modules" / "iam", f"{path}: project-level IAM outside modules/iam"
        for role in ("roles/owner", "roles/editor", "roles/viewer"):
            assert f'"{role}"' not in code or path == TF / "modules" / "iam" / "variables.tf", f"{path}: {role}"
        assert not re.search(r'resource\s+"google_project_iam_(binding|policy)"', code), f"{path}: authoritative project IAM"


def test_google_provider_pinned_exactly() -> None:
    versions = (TF / "versions.tf").read_text()
    assert re.search(r'version\s*=\s*"=\s*\d+\.\d+\.\d+"', versions), "pin hashicorp/google exactly in versions.tf"


def test_secret_ids_match_the_ansible_contract() -> None:
    code = (TF / "modules" / "secrets" / "main.tf").read_text()
    block = code[code.index("secrets = {"):code.index("}", code.index("secrets = {"))]
    names = set(re.findall(r'"([a-z-]+)"\s*=', block))
    assert names == SECRET_NAMES
    assert 'secret_id = "${var.cluster_name}-${each.key}"' in code


def test_outputs_the_ansible_side_consumes_exist() -> None:
    outputs = set(re.findall(r'^output\s+"([^"]+)"', (TF / "outputs.tf").read_text(), re.M))
    missing = CONSUMED_OUTPUTS - outputs
    assert not missing, f"missing outputs: {sorted(missing)}"
    code = (TF / "outputs.tf").read_text()
    ca = code[code.index('output "db_server_ca_cert"'):]
    assert re.search(r"sensitive\s*=\s*true", ca[:ca.index("\n}")])


def test_inventory_groups_and_hostnames() -> None:
    text = (INV / "gcp.yml").read_text()
    assert re.search(r"^plugin: google\.cloud\.gcp_compute$", text, re.M)
    assert re.search(r"^auth_kind: application$", text, re.M)
    assert "labels.airflow-cluster" in text
    groups = text[text.index("\ngroups:"):text.index("\ncompose:")]
    assert set(re.findall(r"^  (\w+):", groups, re.M)) == {"airflow_main", "airflow_workers"}
    assert "labels['airflow-role'] == 'main'" in groups
    assert "labels['airflow-role'] == 'worker'" in groups
    assert re.search(r"^hostnames:\n  - name$", text, re.M)


def test_inventory_sets_every_ansible_variable_from_terraform_at_run_time() -> None:
    kit_vars = INV / "group_vars" / "airflow_gcp.yml"
    keys = top_level_keys(kit_vars)
    assert ANSIBLE_VARS <= keys, f"missing: {sorted(ANSIBLE_VARS - keys)}"
    text = kit_vars.read_text()
    outputs = set(re.findall(r'^output\s+"([^"]+)"', (TF / "outputs.tf").read_text(), re.M))
    used = set(re.findall(r"airflow_gcp_tf_output ~ ' (\w+)'", text))
    assert used and used <= outputs, f"unknown outputs: {sorted(used - outputs)}"
    assert "airflow_db_sslmode: verify-ca" in text
    assert "cluster_secrets_backend: gcp_secret_manager" in text
    assert "airflow_postgresql_local: false" in text
    # The parent group that lifts these above the playbook's group_vars/all.
    assert "airflow_gcp:" in (INV / "groups.yml").read_text()


def test_iap_ssh() -> None:
    text = (INV / "group_vars" / "all.yml").read_text()
    assert "gcloud compute start-iap-tunnel %h 22 --listen-on-stdin" in text
    assert "--zone=" in text and "--project=" in text


def test_no_secret_material_in_git() -> None:
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "terraform", "ansible/inventories/gcp"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    assert not [f for f in tracked if f.endswith((".tfstate", ".tfvars")) or ".terraform/" in f]
    for path in [*tf_files(), *INV.rglob("*.yml")]:
        text = path.read_text()
        assert not re.search(r"-----BEGIN (RSA |EC )?PRIVATE KEY-----", text), path
        assert "secret_data" not in text or "module.material" in text, f"{path}: secret_data must come from the generator"


def main() -> int:
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    failures = 0
    for name, fn in tests:
        try:
            fn()
        except AssertionError as exc:
            failures += 1
            print(f"FAIL {name}: {exc}")
        else:
            print(f"ok   {name}")
    print(f"contract checks: {len(tests) - failures} ok, {failures} failing")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
