"""Run ansible/inventories/gcp/gcp.yml through the real google.cloud.gcp_compute plugin
on instances shaped like the Compute API returns them for the Terraform VMs (labels,
zone URL, project), without credentials: only the API call is skipped.

Needs ansible-core with the google.cloud collection and google-auth importable; skipped
otherwise. Run standalone (python3 tests/terraform/test_gcp_inventory_plugin.py) or with
pytest, from the Python that has Ansible.
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "ansible" / "inventories" / "gcp" / "gcp.yml"
ZONE_URL = "https://www.googleapis.com/compute/v1/projects/acme-data-prod/zones/europe-west1-b"


def fake_instance(name: str, role: str, instances: str | None = None) -> dict:
    labels = {"airflow-cluster": "airflow", "airflow-role": role}
    if instances is not None:
        labels["airflow-worker-instances"] = instances
    return {
        "name": name,
        "zone": ZONE_URL,
        "status": "RUNNING",
        "labels": labels,
        "tags": {"items": [f"airflow-{role}"]},
        "networkInterfaces": [{
            "networkIP": "10.10.0.2",
            "network": "https://www.googleapis.com/compute/v1/projects/acme-data-prod/global/networks/airflow-vpc",
            "subnetwork": "https://www.googleapis.com/compute/v1/projects/acme-data-prod/regions/europe-west1/subnetworks/airflow-subnet",
        }],
        "selfLink": f"{ZONE_URL}/instances/{name}",
    }


def build_inventory():
    try:
        from ansible.inventory.data import InventoryData
        from ansible.parsing.dataloader import DataLoader
        from ansible.plugins.loader import init_plugin_loader, inventory_loader
        import google.auth  # noqa: F401  (the plugin refuses to start without it)
    except ImportError as exc:  # pragma: no cover - depends on the control machine
        return None, f"ansible/google.cloud/google-auth not importable: {exc}"

    init_plugin_loader()
    plugin = inventory_loader.get("google.cloud.gcp_compute")
    if plugin is None:
        return None, "google.cloud collection not installed"
    inventory = InventoryData()
    # The plugin's parse() = base parse + config + API call; do the first two, then feed
    # the API's answer ourselves.
    type(plugin).__mro__[1].parse(plugin, inventory, DataLoader(), str(INVENTORY))
    config = plugin._read_config_data(str(INVENTORY))
    items = [
        fake_instance("airflow-main", "main"),
        fake_instance("airflow-worker-1", "worker", "1"),
        fake_instance("airflow-worker-2", "worker", "3"),
        fake_instance("airflow-worker-3", "worker"),
    ]
    for item in items:
        item["project"] = "acme-data-prod"
    plugin._add_hosts(items, config)
    return inventory, ""


def check(inventory) -> None:
    groups = inventory.groups
    assert sorted(h.name for h in groups["airflow_main"].get_hosts()) == ["airflow-main"]
    assert sorted(h.name for h in groups["airflow_workers"].get_hosts()) == [
        "airflow-worker-1", "airflow-worker-2", "airflow-worker-3"]
    main = inventory.get_host("airflow-main").get_vars()
    assert main["ansible_host"] == "airflow-main"
    assert main["airflow_gcp_zone"] == "europe-west1-b"
    assert main["airflow_gcp_project"] == "acme-data-prod"
    assert main["airflow_worker_instances"] == 0
    assert inventory.get_host("airflow-worker-2").get_vars()["airflow_worker_instances"] == 3
    assert inventory.get_host("airflow-worker-3").get_vars()["airflow_worker_instances"] == 1


def test_groups_and_compose() -> None:
    inventory, why = build_inventory()
    if inventory is None:
        import pytest
        pytest.skip(why)
    check(inventory)


if __name__ == "__main__":
    inv, reason = build_inventory()
    if inv is None:
        print(f"skipped: {reason}")
        sys.exit(0)
    check(inv)
    print("gcp inventory plugin: groups and compose ok")
