#!/usr/bin/env python3
"""Ansible inventory of the GCP cluster, built from Terraform's `ansible` output, read once per run.

Ansible runs this script (the `script` inventory plugin) once per ansible-playbook run. It reads the one
object terraform/ exposes for Ansible:

  * $AGK_TF_OUTPUTS, when set: that object as JSON (Cloud Build, which has no Terraform state, gets it
    from the trigger's _TF_OUTPUTS substitution; see terraform/cloudbuild.tf);
  * else `$AGK_TERRAFORM_BIN -chdir=$AGK_TERRAFORM_DIR output -json ansible` (defaults: `terraform` and this
    repository's terraform/ directory), with your credentials for the state bucket.

and prints the hosts (<cluster>-main, <cluster>-worker-N, <cluster>-edge-N: the instance names, which the
IAP ssh ProxyCommand in group_vars/airflow_gcp.yml tunnels to), their groups and the variables the roles need:

  airflow_main          the main VM
  airflow_workers       the worker VMs; with worker_count = 0 the main VM (all-in-one). Group var
                        airflow_worker_instances: Celery worker instances on each of these hosts.
  airflow_edge_workers  the Airflow Edge worker VMs (edge_worker_count; key edge_vm_names, present only when
                        there are some): never in airflow_main or airflow_workers. Empty without them.
  airflow_gcp           parent of all three, with every other value below.

The variables are group variables of the inventory source: they rank above role defaults and below the
playbook's group_vars, so none of these names may be set in ansible/group_vars (tests/terraform checks it).
"""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import subprocess
import sys

DEFAULT_TERRAFORM_DIR = pathlib.Path(__file__).resolve().parents[3] / "terraform"
# The keys of the `ansible` object this script reads (terraform/main.tf, local.ansible). The object's optional
# keys (local.ansible_optional: present only when their feature is on) are read with tf.get() instead.
REQUIRED_KEYS = {"project_id", "zone", "cluster_name", "main_vm_name", "worker_vm_names", "vm_instance_ids",
                 "airflow_worker_instances",
                 "db_host", "db_port", "db_name", "db_user", "db_server_ca_cert", "db_max_connections", "log_bucket_url",
                 "secret_ids"}


def read_outputs(env: dict[str, str]) -> dict:
    """The `ansible` output object, from $AGK_TF_OUTPUTS or one `terraform output` call."""
    if env.get("AGK_TF_OUTPUTS"):
        outputs = json.loads(env["AGK_TF_OUTPUTS"])
        missing = sorted(REQUIRED_KEYS - set(outputs))
        if missing:
            sys.exit(f"terraform_outputs.py: AGK_TF_OUTPUTS lacks {missing}: it must be Terraform's whole `ansible` "
                     "output (`terraform output -json ansible`; the trigger passes it as _TF_OUTPUTS)")
        return outputs
    terraform = shlex.split(env.get("AGK_TERRAFORM_BIN") or "terraform")
    tf_dir = env.get("AGK_TERRAFORM_DIR") or str(DEFAULT_TERRAFORM_DIR)
    result = subprocess.run([*terraform, f"-chdir={tf_dir}", "output", "-no-color", "-json", "ansible"],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"terraform_outputs.py: `terraform output -json ansible` in {tf_dir} failed "
                 f"(set AGK_TERRAFORM_DIR to your Terraform root):\n{result.stderr.strip()}")
    return json.loads(result.stdout)


def inventory(tf: dict) -> dict:
    """The script-inventory JSON for the `ansible` output object `tf`."""
    main = tf["main_vm_name"]
    workers = list(tf["worker_vm_names"]) or [main]  # worker_count = 0: all-in-one on the main VM
    # Edge workers run tasks through the API server only: a group of their own, so no play for the main VM or
    # the Celery workers (Redis, the metadata DB, the secrets) ever targets them.
    edges = list(tf.get("edge_vm_names") or [])
    vms = {main, *workers, *edges}
    ids = dict(tf["vm_instance_ids"])
    missing = sorted(vms - set(ids))
    if missing:
        sys.exit(f"terraform_outputs.py: vm_instance_ids lacks {missing}")
    return {
        # Each VM's instance id, under which its SSH host key is pinned (group_vars/airflow_gcp.yml).
        "_meta": {"hostvars": {name: {"airflow_gcp_instance_id": str(ids[name])} for name in vms}},
        "airflow_gcp": {
            "children": ["airflow_main", "airflow_workers", "airflow_edge_workers"],
            "vars": {
                # Where the VMs are (the IAP tunnel of group_vars/airflow_gcp.yml needs both).
                "airflow_gcp_project": tf["project_id"],
                "airflow_gcp_zone": tf["zone"],
                "airflow_cluster_name": tf["cluster_name"],
                # Cloud SQL for PostgreSQL: private IP, TLS with the server CA verified.
                "airflow_db_host": tf["db_host"],
                "airflow_db_port": tf["db_port"],
                "airflow_db_name": tf["db_name"],
                "airflow_db_user": tf["db_user"],
                "airflow_db_sslmode": "verify-ca",
                "airflow_db_ssl_root_cert": tf["db_server_ca_cert"],
                # The flag Terraform sets: the preflight checks the Airflow pools against it before any change.
                "airflow_db_max_connections": tf["db_max_connections"],
                # Remote task logs (the VM service account may write this bucket only).
                "airflow_remote_log_bucket": tf["log_bucket_url"],
                # Shared secrets: read from Secret Manager with the operator's credentials; ids by name.
                "cluster_secrets_backend": "gcp_secret_manager",
                "cluster_secrets_gcp_project": tf["project_id"],
                "cluster_secrets_gcp_ids": dict(tf["secret_ids"]),
            },
        },
        "airflow_main": {"hosts": [main]},
        "airflow_workers": {
            "hosts": workers,
            "vars": {"airflow_worker_instances": tf["airflow_worker_instances"]},
        },
        "airflow_edge_workers": {"hosts": edges},
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--host"]:
        print("{}")  # every variable is in --list's _meta or groups
        return 0
    if argv[:1] != ["--list"]:
        print(f"usage: {sys.argv[0]} --list | --host NAME", file=sys.stderr)
        return 2
    print(json.dumps(inventory(read_outputs(dict(os.environ))), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
