"""The GCP inventory's way into the VMs, rehearsed on the demo cluster's VMs (deploy stage).

ansible/inventories/gcp is used as on GCP, its group_vars unchanged, from a Terraform `ansible` object that names
these VMs; scripts/rehearsal/gcloud on PATH makes the one hop IAP makes (to the VM's port 22). So Ansible logs in
over SSH as the OS Login user the inventory derives from the gcloud account (kitlib.testbed provisions it as OS
Login would: a non-root user with passwordless sudo, no root login), checks the host key it pinned under the VM's
instance id, and becomes root for the roles. Each property is shown with its control: without become the same login
is not root and cannot read the cluster's configuration; a changed host key under the same id stops the run while
the pinned one passes; a tunnel to another zone or project finds no VM.
"""
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from kitlib import paths, testbed

BED = testbed.load()
PROJECT, ZONE = "agk-rehearsal", "europe-west1-b"
VMS = [*BED.group("airflow_main"), *BED.group("airflow_workers"), *BED.group("airflow_edge_workers")]


def tf_output() -> dict:
    """The `ansible` object terraform/ would output for a cluster of these VMs (the values GCP assigns at apply
    made up: instance ids, addresses)."""
    secrets = yaml.safe_load(
        (paths.ANSIBLE_DIR / "roles" / "cluster_secrets" / "vars" / "main.yml").read_text())["cluster_secrets_specs"]
    return {
        "project_id": PROJECT, "region": "europe-west1", "zone": ZONE, "cluster_name": "local",
        "main_vm_name": BED.group("airflow_main")[0], "worker_vm_names": BED.group("airflow_workers"),
        "edge_vm_names": BED.group("airflow_edge_workers"),
        "vm_instance_ids": {name: str(7100000000000000000 + n) for n, name in enumerate(VMS)},
        "airflow_worker_instances": 2, "db_host": "10.20.0.3", "db_port": 5432, "db_name": "airflow",
        "db_user": "airflow", "db_server_ca_cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "db_max_connections": 200, "log_bucket_url": f"gs://{PROJECT}-local-task-logs",
        "secret_ids": {s["name"]: f"local-{s['name'].replace('_', '-')}" for s in secrets},
    }


@pytest.fixture(scope="module")
def known_hosts(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ssh") / "google_compute_known_hosts"


def ad_hoc(known_hosts: Path, command: str, *extra: str, env: dict | None = None) -> dict:
    """`ansible airflow_gcp -i inventories/gcp -m command -a COMMAND` -> host -> (status, output). Each call opens
    new SSH connections (a control socket folder of its own): a connection an earlier call left open would carry
    it past the tunnel and the host key check under test."""
    control_dir = tempfile.mkdtemp(prefix="cp-", dir=known_hosts.parent)
    run_env = {**os.environ, "ANSIBLE_SSH_CONTROL_PATH_DIR": control_dir, "AGK_TF_OUTPUTS": json.dumps(tf_output()),
               "PATH": f"{paths.REPO / 'scripts' / 'rehearsal'}:{os.environ['PATH']}",
               "AGK_SSH_KEY": str(testbed.operator_key()), "AGK_KNOWN_HOSTS": str(known_hosts),
               "AGK_REHEARSAL_PROJECT": PROJECT, "AGK_REHEARSAL_ZONE": ZONE, "ANSIBLE_NOCOLOR": "1", **(env or {})}
    run_env.pop("AGK_SSH_USER", None)
    result = subprocess.run(["ansible", "airflow_gcp", "-i", "inventories/gcp", "-o", "-m", "ansible.builtin.command",
                             "-a", command, *extra], cwd=paths.ANSIBLE_DIR, env=run_env, capture_output=True,
                            text=True, timeout=300)
    found = {}
    for line in result.stdout.splitlines():
        if match := re.match(r"^(\S+) \| (\w+)[!]?(?: \| rc=\d+)? \| \(stdout\) (.*)$", line):
            found[match[1]] = (match[2], match[3])
        elif match := re.match(r"^(\S+) \| (\w+)!?(?: =>|:) (.*)$", line):
            found[match[1]] = (match[2], match[3])
        elif match := re.match(r"^(\S+) \| (\w+) \| rc=\d+ \| \(stdout\)\s*(?:\(stderr\) (.*))?$", line):
            found[match[1]] = (match[2], match[3] or "")
    assert set(found) == set(VMS), f"not every VM answered:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
    return found


def test_every_vm_is_reached_over_ssh_as_the_os_login_user_who_becomes_root(known_hosts):
    as_root = ad_hoc(known_hosts, "id -un")
    assert all(out == ("CHANGED", "root") for out in as_root.values()), as_root
    # The control: the login itself is the OS Login user, not root, and without become it cannot read what the
    # roles write (so every role needs the become the inventory sets).
    login = ad_hoc(known_hosts, "id -un", "-e", "ansible_become=false")
    assert all(out == ("CHANGED", testbed.OPERATOR_USER) for out in login.values()), login
    denied = ad_hoc(known_hosts, "cat /etc/sudoers.d/google-oslogin-admin", "-e", "ansible_become=false")
    assert all(status == "FAILED" for status, _ in denied.values()), denied
    # As on GCE, root may not log in at all: the key that logs in as the OS Login user is refused for root.
    as_root_login = ad_hoc(known_hosts, "true", "-e", "ansible_user=root")
    assert all(status == "UNREACHABLE" and "Permission denied" in out for status, out in as_root_login.values()), \
        as_root_login
    for n, vm in enumerate(VMS):
        assert pinned_under(known_hosts, f"compute.{7100000000000000000 + n}"), f"{vm}'s key is not pinned by instance id"


def pinned_under(known_hosts: Path, alias: str) -> bool:
    """Whether known_hosts holds a key for alias (ssh may hash the names it writes: ssh-keygen -F finds them)."""
    return subprocess.run(["ssh-keygen", "-F", alias, "-f", str(known_hosts)], capture_output=True).returncode == 0


def test_a_changed_host_key_stops_the_run_and_the_pinned_one_passes(known_hosts):
    ad_hoc(known_hosts, "true")  # pins every key (first use), or finds them pinned
    pinned = known_hosts.read_text()
    main_alias = f"compute.{7100000000000000000 + VMS.index(BED.group('airflow_main')[0])}"
    forged = known_hosts.parent / "forged"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(forged)], check=True)
    subprocess.run(["ssh-keygen", "-R", main_alias, "-f", str(known_hosts)], check=True, capture_output=True)
    assert not pinned_under(known_hosts, main_alias)
    with known_hosts.open("a") as out:
        out.write(f"{main_alias} {' '.join(forged.with_suffix('.pub').read_text().split()[:2])}\n")
    try:
        refused = ad_hoc(known_hosts, "true")
        assert refused[BED.group("airflow_main")[0]][0] == "UNREACHABLE", refused
        assert all(status == "CHANGED" for vm, (status, _) in refused.items() if vm != BED.group("airflow_main")[0])
    finally:
        known_hosts.write_text(pinned)
    assert all(status == "CHANGED" for status, _ in ad_hoc(known_hosts, "true").values())


def test_the_tunnel_opens_in_the_inventory_project_and_zone_only(known_hosts):
    elsewhere = ad_hoc(known_hosts, "true", env={"AGK_REHEARSAL_ZONE": "us-central1-a"})
    assert all(status == "UNREACHABLE" for status, _ in elsewhere.values()), elsewhere
