"""Fixtures shared by both Molecule scenarios (all_in_one, multi_host).

Host checks run through testinfra's ansible backend against Molecule's inventory; cluster behaviour is
driven through the API server's REST API, published on a loopback port of the control machine.
"""
import os
import sys
from pathlib import Path

import pytest
import testinfra
import testinfra.utils.ansible_runner

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "scripts"))

from kitlib.airflow_api import AirflowApi  # noqa: E402

INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE")
CLUSTER = os.environ["AGK_CLUSTER_NAME"]
SECRETS = Path(os.environ.get("AGK_SECRETS_ROOT", Path.home() / ".config" / "airflow-gcp-kit")) / CLUSTER
DAG_ID = "example_etl_pipeline"
CONSUMER_DAG_ID = "example_asset_consumer"


def hosts_of(group: str) -> list:
    runner = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
    return runner.get_hosts(group)


def host(name: str):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


def host_vars(name: str) -> dict:
    return testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_variables(name)


def worker_instances(name: str) -> int:
    # host_vars from the scenario, else the playbook's group default of 1 per worker VM
    return int(host_vars(name).get("airflow_worker_instances", 1))


@pytest.fixture(scope="session")
def main_host():
    return host(hosts_of("airflow_main")[0])


@pytest.fixture(scope="session")
def worker_hosts():
    return {name: host(name) for name in hosts_of("airflow_workers")}


@pytest.fixture(scope="session")
def worker_instances_by_host():
    return {name: worker_instances(name) for name in hosts_of("airflow_workers")}


@pytest.fixture(scope="session")
def api():
    client = AirflowApi(os.environ["AGK_API_URL"], "admin", (SECRETS / "admin_password").read_text().strip())
    client.wait_healthy(timeout=300)
    client.login()
    for dag_id in (DAG_ID, CONSUMER_DAG_ID):
        client.enable(dag_id, timeout=300)
    return client


@pytest.fixture(scope="session")
def flower_password():
    return (SECRETS / "flower_password").read_text().strip()
