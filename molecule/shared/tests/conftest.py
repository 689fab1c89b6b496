"""Fixtures shared by the Molecule scenarios (all_in_one, multi_host) and by the deploy stage, which runs these
tests against the demo cluster (the multi-host layout with the git server and the Edge host; scripts/deploy-tests.sh).

Host checks run through testinfra's ansible backend against Molecule's inventory (the scenario's
inventory.yml and the local group_vars), or against the inventory directory AGK_VERIFY_INVENTORY names
(its hosts.yml and group_vars: ansible/inventories/local for the demo cluster); cluster behaviour is driven
through the API server's REST API, published on the control machine's loopback port that the inventory names.
Ports and defaults are the roles' own (kitlib.testbed.role_default).
"""
import json
import os
from pathlib import Path

import pytest
import testinfra
import testinfra.utils.ansible_runner

from kitlib import paths, testbed
from kitlib.airflow_api import AirflowApi

if os.environ.get("AGK_VERIFY_INVENTORY"):
    INVENTORY = os.environ["AGK_VERIFY_INVENTORY"]
    BED = testbed.load(Path(INVENTORY) / "hosts.yml")
else:
    # Molecule's inventory folder: its own ansible_inventory.yml plus links to inventory.yml and group_vars.
    INVENTORY = str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)
    BED = testbed.load(Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "inventory.yml")
CLUSTER = os.environ["AGK_CLUSTER_NAME"]
SECRETS = paths.SECRETS_ROOT / CLUSTER
port = testbed.role_default
DAG_ID = "example_etl_pipeline"
CONSUMER_DAG_ID = "example_asset_consumer"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "multi_host_proof: a module whose checks can only fail with a second VM (connections from another VM, "
        "units that belong on worker VMs only) or prove code the layout does not change; the all_in_one scenario "
        "leaves it out (molecule.yml: -m 'not multi_host_proof'), the multi-host runs (the deploy stage on the demo "
        "cluster, molecule test -s multi_host) keep it")


def hosts_of(group: str) -> list:
    runner = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
    return runner.get_hosts(group)


def host(name: str):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


def host_vars(name: str) -> dict:
    return testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_variables(name)


def config_value(name: str, section: str, key: str) -> str:
    """What Airflow on that host reads for [section] key (airflow.cfg, then the environment)."""
    out = host(name).check_output(f"/usr/local/bin/airflow config get-value {section} {key}")
    return out.strip().splitlines()[-1]


def worker_instances(name: str) -> int:
    # the scenario's host var, else the role default
    return int(host_vars(name).get("airflow_worker_instances", testbed.role_default("airflow_worker_instances")))


@pytest.fixture(scope="session")
def main_host():
    return host(hosts_of("airflow_main")[0])


def celery_nodes() -> set:
    """The Celery node names the inventory's worker instances take (workerN@host)."""
    return {f"worker{i}@{name}" for name in hosts_of("airflow_workers") for i in range(1, worker_instances(name) + 1)}


def flower_workers(password: str | None = None) -> tuple[int, set]:
    """Flower's answer on the main VM: (curl's exit status, the Celery nodes that answered). refresh=1 makes Flower
    ask every worker instead of answering from its event cache. password None: without credentials."""
    main = hosts_of("airflow_main")[0]
    auth = f"-u admin:{password} " if password is not None else ""
    out = host(main).run(f"curl --cacert {config_value(main, 'api', 'ssl_ca_file')} -sf {auth}"
                         f"'https://127.0.0.1:{testbed.role_default('airflow_flower_port')}/api/workers?refresh=1'")
    try:
        return out.rc, set(json.loads(out.stdout)) if out.rc == 0 else set()
    except ValueError:
        return out.rc, set()


@pytest.fixture(scope="session")
def worker_hosts():
    return {name: host(name) for name in hosts_of("airflow_workers")}


@pytest.fixture(scope="session")
def worker_instances_by_host():
    return {name: worker_instances(name) for name in hosts_of("airflow_workers")}


@pytest.fixture(scope="session")
def api():
    client = AirflowApi.for_cluster(BED, CLUSTER)
    client.wait_healthy(timeout=300)
    client.login()
    for dag_id in (DAG_ID, CONSUMER_DAG_ID):
        client.enable(dag_id, timeout=300)
    return client


@pytest.fixture(scope="session")
def flower_password():
    return (SECRETS / "flower_password").read_text().strip()
