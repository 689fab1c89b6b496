"""Static contract checks between terraform/ and the Ansible side.

Run by pytest (scripts/terraform-checks.sh, stage contract). Reads files only: no Terraform, no network. Names are never restated
here: they are read from the files that define them.
"""

from __future__ import annotations

import ast
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
TF = ROOT / "terraform"
INV = ROOT / "ansible" / "inventories" / "gcp"
INVENTORY_SCRIPT = INV / "terraform_outputs.py"


def tf_files() -> list[pathlib.Path]:
    return sorted(p for p in TF.rglob("*.tf") if ".terraform" not in p.parts)


def strip_comments(text: str) -> str:
    return "\n".join(re.sub(r"(^|\s)(#|//).*$", "", line) for line in text.splitlines())


def local_object_keys(name: str) -> set[str]:
    """Keys of the object local.<name> in terraform/main.tf."""
    code = strip_comments((TF / "main.tf").read_text())
    block = code[code.index(f"\n  {name} = {{"):]
    block = block[:block.index("\n  }\n")]
    return set(re.findall(r"^    (\w+)\s*=", block, re.M))


def ansible_object_keys() -> set[str]:
    """Keys of local.ansible in terraform/main.tf (the ansible output object: always present)."""
    return local_object_keys("ansible")


def ansible_optional_keys() -> set[str]:
    """Keys of local.ansible_optional: in the ansible output object only when their feature is on."""
    return local_object_keys("ansible_optional")


def script_reads() -> set[str]:
    """The keys terraform_outputs.py requires from the object: tf["..."]."""
    return set(re.findall(r'tf\["(\w+)"\]', INVENTORY_SCRIPT.read_text()))


def script_optional_reads() -> set[str]:
    """The keys terraform_outputs.py reads when present: tf.get("...")."""
    return set(re.findall(r'tf\.get\("(\w+)"', INVENTORY_SCRIPT.read_text()))


def resource_blocks(code: str, rtype: str) -> list[str]:
    """Bodies of every resource of type rtype in code (blocks close with a "}" in column 0)."""
    return [m.group(0) for m in re.finditer(rf'^resource\s+"{rtype}"\s+"\w+"\s*\{{.*?^\}}', code, re.M | re.S)]


def script_sets() -> set[str]:
    """Variable names the inventory script emits (string keys of its "vars" dicts)."""
    tree = ast.parse(INVENTORY_SCRIPT.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "vars" and isinstance(value, ast.Dict):
                    names |= {k.value for k in value.keys if isinstance(k, ast.Constant)}
    return names


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


def test_provider_constraints() -> None:
    root = (TF / "versions.tf").read_text()
    assert re.search(r'source\s*=\s*"hashicorp/google"\s*\n\s*version\s*=\s*"~> 7\.45"', root), "root: google ~> 7.45"
    assert re.search(r'required_version\s*=\s*">= 1\.11', root), "root: terraform >= 1.11 (write-only arguments)"
    assert re.search(r'backend\s+"gcs"\s*\{\s*\}', root), "root: partial backend \"gcs\" {} block"
    for versions in (TF / "modules").glob("*/versions.tf"):
        assert '"hashicorp/google"' in versions.read_text() and '">= 7.0, < 8.0"' in versions.read_text(), versions


def test_no_lock_file_in_git() -> None:
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=False).stdout.split()
    assert not [f for f in tracked if f.endswith(".terraform.lock.hcl")], "a provider lock file is tracked"


def test_secret_list_is_read_not_restated() -> None:
    """The secret names live in ansible/roles/cluster_secrets/vars/main.yml only."""
    specs = (ROOT / "ansible" / "roles" / "cluster_secrets" / "vars" / "main.yml").read_text()
    names = re.findall(r"^\s*-\s*\{name:\s*(\w+)", specs, re.M)
    assert len(names) >= 7, names
    assert "cluster_secrets/vars/main.yml" in (TF / "main.tf").read_text()
    for path in [*tf_files(), *(TF / "tests").glob("*.tftest.hcl"), INVENTORY_SCRIPT]:
        # Declarations such as `variable "db_password"` name a module input, not the list.
        code = re.sub(r'^(variable|output)\s+"\w+"', "", strip_comments(path.read_text()), flags=re.M)
        for name in names:
            for spelling in (name, name.replace("_", "-")):
                # db_password is the one secret Terraform itself uses (the Cloud SQL user's password).
                if name == "db_password" and path == TF / "main.tf":
                    continue
                assert not re.search(rf'"[^"\n]*\b{re.escape(spelling)}\b[^"\n]*"', code), f"{path}: restates secret {spelling}"


def test_no_secret_value_can_reach_state() -> None:
    for path in tf_files():
        code = strip_comments(path.read_text())
        assert not re.search(r"^\s*secret_data\s*=", code, re.M), f"{path}: secret_data (stored in state); use secret_data_wo"
        assert not re.search(r"^\s*password\s*=", code, re.M), f"{path}: password (stored in state); use password_wo"
        assert 'resource "random_' not in code, f"{path}: a random_* resource keeps its result in state; use ephemeral"
        assert not re.search(r"\buuid\(\)", code), f"{path}: uuid() seeds"


def test_ports_and_worker_instances_are_read_from_the_roles() -> None:
    main = (TF / "main.tf").read_text()
    assert "airflow_base/defaults/main.yml" in main
    for key in ("airflow_api_port", "airflow_redis_port", "airflow_flower_port", "airflow_worker_log_server_port",
                "airflow_worker_instances"):
        assert f"local.airflow.{key}" in main, key
    defaults = (ROOT / "ansible" / "roles" / "airflow_base" / "defaults" / "main.yml").read_text()
    ports = [re.search(rf"^{key}:\s*(\d+)", defaults, re.M).group(1) for key in
             ("airflow_api_port", "airflow_redis_port", "airflow_flower_port", "airflow_worker_log_server_port")]
    for path in tf_files():
        code = strip_comments(path.read_text())
        for port in ports:
            assert not re.search(rf"\b{port}\b", code), f"{path}: port {port} written as a literal"
    assert "max_worker_instances_per_vm" not in "".join(p.read_text() for p in tf_files())


def test_inventory_reads_only_keys_of_the_ansible_object() -> None:
    keys = ansible_object_keys()
    reads = script_reads()
    assert reads and reads <= keys, f"the inventory reads keys the ansible output lacks: {sorted(reads - keys)}"
    # An optional key may be missing (a cluster without its feature, or a _TF_OUTPUTS from before it existed):
    # the inventory reads each with tf.get(), never tf["..."], and the two sets of keys never overlap.
    optional = ansible_optional_keys()
    assert "edge_vm_names" in optional and not (optional & keys), (optional, keys)
    assert script_optional_reads() == optional, f"read with tf.get(): {sorted(script_optional_reads())}, optional: {sorted(optional)}"
    assert not (reads & optional), f"the inventory requires optional keys: {sorted(reads & optional)}"
    cloudbuild = strip_comments((TF / "modules" / "cloudbuild" / "main.tf").read_text())
    used = set(re.findall(r"(?<!try\()var\.ansible\.(\w+)", cloudbuild))
    assert used <= keys, f"modules/cloudbuild reads keys the ansible output lacks: {sorted(used - keys)}"
    tried = set(re.findall(r"try\(var\.ansible\.(\w+)", cloudbuild))
    assert tried <= optional, f"modules/cloudbuild reads optional keys the ansible output lacks: {sorted(tried - optional)}"
    assert "jsonencode(var.ansible)" in cloudbuild, "_TF_OUTPUTS must be the whole ansible object"
    outputs = set(re.findall(r'^output\s+"([^"]+)"', (TF / "outputs.tf").read_text(), re.M))
    assert outputs == {"ansible", "deploy", "monitoring"}, outputs


def test_inventory_sets_what_the_roles_need() -> None:
    sets = script_sets()
    need = {
        "airflow_cluster_name", "airflow_db_host", "airflow_db_port", "airflow_db_name", "airflow_db_user",
        "airflow_db_sslmode", "airflow_db_ssl_root_cert", "airflow_remote_log_bucket", "cluster_secrets_backend",
        "cluster_secrets_gcp_project", "cluster_secrets_gcp_ids", "airflow_worker_instances",
        "airflow_gcp_project", "airflow_gcp_zone",
    }
    assert need <= sets, f"missing: {sorted(need - sets)}"
    assert "airflow_postgresql_local" not in INVENTORY_SCRIPT.read_text()
    assert INVENTORY_SCRIPT.stat().st_mode & 0o111, "the inventory script must be executable"


def test_inventory_variables_are_not_overridden_by_playbook_group_vars() -> None:
    """Script group vars rank below the playbook's group_vars: none of their names may be set there."""
    sets = script_sets()
    for path in (ROOT / "ansible" / "group_vars").rglob("*.yml"):
        defined = set(re.findall(r"^(\w+):", path.read_text(), re.M))
        assert not (defined & sets), f"{path} overrides the GCP inventory's {sorted(defined & sets)}"


def test_env_names() -> None:
    # How the inventory's SSH settings render per host: test_gcp_inventory.py.
    for path in [*INV.rglob("*"), *tf_files(), ROOT / "docs" / "gcp.md"]:
        if path.is_file():
            assert "AIRFLOW_GCP_" not in path.read_text(), f"{path}: kit environment variables start with AGK_"


def test_no_secret_material_in_git() -> None:
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "terraform", "ansible/inventories/gcp"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    assert not [f for f in tracked if f.endswith((".tfstate", ".tfvars")) and "/examples/" not in f]
    for path in [*tf_files(), *INV.rglob("*.yml")]:
        assert not re.search(r"-----BEGIN (RSA |EC )?PRIVATE KEY-----", path.read_text()), path


def test_edge_workers_read_no_secret() -> None:
    """The Edge worker account has no grant on any secret: no secret IAM resource names it."""
    assert (TF / "modules" / "iam" / "edge.tf").is_file()
    for path in tf_files():
        code = strip_comments(path.read_text())
        for block in resource_blocks(code, r"google_secret_manager_secret_iam_\w+"):
            assert "edge" not in block, f"{path}: a secret grant to the Edge workers:\n{block}"

def test_dag_test_account_writes_build_logs_only() -> None:
    """The DAG-test builds' account (it runs code whoever can push wrote) has one grant in all of terraform/: its
    project-level logging.logWriter, in modules/iam/deploy.tf. No other IAM resource names it."""
    grants = []
    for path in tf_files():
        code = strip_comments(path.read_text())
        for block in resource_blocks(code, r"google_\w+_iam_\w+"):
            if re.search(r"\bdag_test\b|\btest_service_account\b", block):
                grants.append((path.relative_to(TF).as_posix(), block))
    assert [p for p, _ in grants] == ["modules/iam/deploy.tf"], f"grants to the DAG-test account: {grants}"
    (block,) = [b for _, b in grants]
    assert re.match(r'resource\s+"google_project_iam_member"\s+"dag_test"', block), block
    assert re.findall(r'^\s*role\s*=\s*"([^"]+)"', block, re.M) == ["roles/logging.logWriter"], block
