"""ansible/inventories/gcp as Ansible sees it, on a fake `terraform output -json ansible`.

Runs `ansible-inventory --list` on the real inventory directory twice: with $AGK_TF_OUTPUTS (Cloud Build)
and with a stand-in terraform ($AGK_TERRAFORM_BIN) that counts its calls, for a multi-VM and an all-in-one
(worker_count = 0) cluster, with and without Edge workers. Needs the Python that has Ansible (scripts/terraform-checks.sh picks the control
venv); runs standalone or under pytest.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import shutil
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "ansible" / "inventories" / "gcp"
SPECS = ROOT / "ansible" / "roles" / "cluster_secrets" / "vars" / "main.yml"


def fake_output(workers: int, edges: int = 0) -> dict:
    """An `ansible` output object as terraform/ would give it (secret ids for every spec name). edge_vm_names is
    one of the object's optional keys: terraform/ sets it only when edge_worker_count > 0."""
    import yaml  # Ansible's dependency

    names = [s["name"] for s in yaml.safe_load(SPECS.read_text())["cluster_secrets_specs"]]
    edge = {"edge_vm_names": [f"af-edge-{i}" for i in range(1, edges + 1)]} if edges else {}
    return edge | {
        "project_id": "acme-data-prod", "region": "europe-west1", "zone": "europe-west1-b", "cluster_name": "af",
        "main_vm_name": "af-main", "worker_vm_names": [f"af-worker-{i}" for i in range(1, workers + 1)],
        "vm_instance_ids": {name: str(4000000000000000000 + n) for n, name in enumerate(
            ["af-main", *(f"af-worker-{i}" for i in range(1, workers + 1)), *(f"af-edge-{i}" for i in range(1, edges + 1))])},
        "airflow_worker_instances": 3, "db_host": "10.20.0.3", "db_port": 5432, "db_name": "airflow",
        "db_user": "airflow", "db_server_ca_cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "db_max_connections": 200,
        "log_bucket_url": "gs://acme-data-prod-af-task-logs",
        "secret_ids": {n: f"af-{n.replace('_', '-')}" for n in names},
    }


def inventory(env: dict[str, str]) -> dict:
    ansible_inventory = pathlib.Path(sys.executable).with_name("ansible-inventory")
    if not ansible_inventory.exists():
        ansible_inventory = pathlib.Path(shutil.which("ansible-inventory") or "ansible-inventory")
    result = subprocess.run([str(ansible_inventory), "-i", str(INVENTORY), "--list", "--export"],
                            env={**os.environ, **env}, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "[WARNING]" not in result.stderr, result.stderr
    return json.loads(result.stdout)


def hostvars(inv: dict, host: str) -> dict:
    """Variables of one host, merged from its groups (parents first) as Ansible would."""
    merged: dict = {}
    for group in ("all", "airflow_gcp", "airflow_main", "airflow_workers", "airflow_edge_workers"):
        if host in inv.get(group, {}).get("hosts", []) or group in ("all", "airflow_gcp"):
            merged.update(inv.get(group, {}).get("vars", {}))
    return merged


def test_multi_vm_cluster_from_agk_tf_outputs() -> None:
    tf = fake_output(workers=2)
    inv = inventory({"AGK_TF_OUTPUTS": json.dumps(tf)})
    assert inv["airflow_main"]["hosts"] == ["af-main"]
    assert inv["airflow_workers"]["hosts"] == ["af-worker-1", "af-worker-2"]
    assert set(inv["airflow_gcp"]["children"]) >= {"airflow_main", "airflow_workers"}
    v = inv["airflow_gcp"]["vars"]
    assert v["airflow_cluster_name"] == "af" and v["airflow_db_host"] == "10.20.0.3" and v["airflow_db_port"] == 5432
    assert v["airflow_db_sslmode"] == "verify-ca" and v["airflow_db_ssl_root_cert"] == tf["db_server_ca_cert"]
    assert v["airflow_db_max_connections"] == 200
    assert v["airflow_remote_log_bucket"] == "gs://acme-data-prod-af-task-logs"
    assert v["cluster_secrets_backend"] == "gcp_secret_manager" and v["cluster_secrets_gcp_project"] == "acme-data-prod"
    assert v["cluster_secrets_gcp_ids"] == tf["secret_ids"]
    assert inv["airflow_workers"]["vars"] == {"airflow_worker_instances": 3}
    assert "airflow_worker_instances" not in hostvars(inv, "af-main"), "hosts outside airflow_workers get no count"
    assert not inv.get("airflow_edge_workers", {}).get("hosts"), "no edge_vm_names: no Edge worker host"


def test_edge_workers_are_a_group_of_their_own() -> None:
    inv = inventory({"AGK_TF_OUTPUTS": json.dumps(fake_output(workers=2, edges=2))})
    edges = ["af-edge-1", "af-edge-2"]
    assert inv["airflow_edge_workers"]["hosts"] == edges
    assert "airflow_edge_workers" in inv["airflow_gcp"]["children"], "edge hosts get the IAP SSH variables"
    assert inv["airflow_main"]["hosts"] == ["af-main"] and inv["airflow_workers"]["hosts"] == ["af-worker-1", "af-worker-2"]
    for host in edges:
        assert hostvars(inv, host)["airflow_gcp_zone"] == "europe-west1-b"
        assert "airflow_worker_instances" not in hostvars(inv, host), "Edge workers are not Celery workers"


def test_all_in_one_with_edge_workers() -> None:
    inv = inventory({"AGK_TF_OUTPUTS": json.dumps(fake_output(workers=0, edges=1))})
    assert inv["airflow_main"]["hosts"] == ["af-main"] and inv["airflow_workers"]["hosts"] == ["af-main"]
    assert inv["airflow_edge_workers"]["hosts"] == ["af-edge-1"]


def test_all_in_one_main_vm_runs_the_workers() -> None:
    inv = inventory({"AGK_TF_OUTPUTS": json.dumps(fake_output(workers=0))})
    assert inv["airflow_main"]["hosts"] == ["af-main"] and inv["airflow_workers"]["hosts"] == ["af-main"]
    assert hostvars(inv, "af-main")["airflow_worker_instances"] == 3


def test_terraform_is_asked_once_per_run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        calls = pathlib.Path(tmp, "calls")
        fake = pathlib.Path(tmp, "terraform")
        fake.write_text(f"#!/bin/sh\necho \"$*\" >> {calls}\ncat <<'JSON'\n{json.dumps(fake_output(workers=1))}\nJSON\n")
        fake.chmod(0o755)
        inv = inventory({"AGK_TF_OUTPUTS": "", "AGK_TERRAFORM_BIN": str(fake), "AGK_TERRAFORM_DIR": "/srv/tf"})
        assert inv["airflow_workers"]["hosts"] == ["af-worker-1"]
        assert calls.read_text().splitlines() == ["-chdir=/srv/tf output -no-color -json ansible"]


def test_incomplete_outputs_are_refused_with_the_missing_keys() -> None:
    partial = {k: v for k, v in fake_output(workers=1).items() if k != "secret_ids"}
    result = subprocess.run([sys.executable, str(INVENTORY / "terraform_outputs.py"), "--list"],
                            env={**os.environ, "AGK_TF_OUTPUTS": json.dumps(partial)},
                            capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "lacks ['secret_ids']" in result.stderr, result.stderr


def connection_vars(host: str, env: dict[str, str]) -> dict:
    """How Ansible would reach `host` through this inventory: its connection variables rendered (the debug module
    runs on the control machine, so nothing is contacted)."""
    ansible = pathlib.Path(sys.executable).with_name("ansible")
    if not ansible.exists():
        ansible = pathlib.Path(shutil.which("ansible") or "ansible")
    names = ["ansible_become", "ansible_user", "ansible_ssh_common_args", "ansible_connection"]
    result = subprocess.run(
        [str(ansible), host, "-i", str(INVENTORY), "-m", "ansible.builtin.debug", "-a",
         "msg={{ {" + ", ".join(f"'{n}': {n} | default(None)" for n in names) + "} | to_json }}", "-o"],
        env={**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "0", **env},
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(json.loads(result.stdout.split("=>", 1)[1])["msg"])


def test_vms_are_reached_through_iap_as_a_sudoer_and_the_control_machine_is_not() -> None:
    """OS Login users are not root: every VM needs become. The control machine's implicit localhost, which the
    `delegate_to: localhost` tasks run on, must neither sudo nor tunnel (an operator's laptop, Cloud Build)."""
    env = {"AGK_TF_OUTPUTS": json.dumps(fake_output(workers=1, edges=1)), "AGK_SSH_USER": "alice_example_com"}
    for host in ("af-main", "af-worker-1", "af-edge-1"):
        vm = connection_vars(host, env)
        assert vm["ansible_become"] is True, f"{host}: {vm}"
        assert vm["ansible_user"] == "alice_example_com", f"{host}: {vm}"
        args = vm["ansible_ssh_common_args"]
        assert ("ProxyCommand=\"gcloud compute start-iap-tunnel %h 22 --listen-on-stdin --zone=europe-west1-b "
                "--project=acme-data-prod") in args, f"{host}: {args}"
        # pinned as gcloud pins host keys: under the instance id, in gcloud's file
        assert f"HostKeyAlias=compute.{fake_output(1, 1)['vm_instance_ids'][host]}" in args, f"{host}: {args}"
        assert "UserKnownHostsFile=~/.ssh/google_compute_known_hosts" in args, f"{host}: {args}"
    local = connection_vars("localhost", env)
    assert not local["ansible_become"] and not local["ansible_ssh_common_args"], local
