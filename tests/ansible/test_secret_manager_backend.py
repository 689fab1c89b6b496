"""The cluster_secrets role's gcp_secret_manager backend, run for real against Secret Manager's and the metadata
server's stand-ins (kitlib.gcp_standins): the credentials come the way they do in Cloud Build (the metadata
server's account, found by google-auth), and the account holds roles/secretmanager.secretAccessor on each secret
and nothing else, which is exactly what terraform/modules/cloudbuild grants the deploy account.

Each attack on the contract has its control: the same account cannot list versions (what the collection's
lookup did first), so any read that lists fails here as it did on GCP.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from kitlib import paths
from kitlib.gcp_standins import ACCESS, LIST, MetadataServer, SecretManager

PROJECT = "acme-data-prod"
BUILD_ACCOUNT = "af-deploy@acme-data-prod.iam.gserviceaccount.com"
SPECS = yaml.safe_load((paths.ANSIBLE_DIR / "roles" / "cluster_secrets" / "vars" / "main.yml").read_text())[
    "cluster_secrets_specs"]


def value_of_shape(spec: dict) -> str:
    if spec["kind"] == "key32":
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(spec["length"]))


@pytest.fixture()
def standins():
    metadata = MetadataServer(PROJECT, BUILD_ACCOUNT)
    metadata.start()
    manager = SecretManager(PROJECT, metadata.tokens)
    endpoint = manager.start()
    values = {}
    for spec in SPECS:
        secret_id = f"af-{spec['name'].replace('_', '-')}"
        manager.add(secret_id, value_of_shape(spec), accessor=BUILD_ACCOUNT)  # an older version first
        values[spec["name"]] = value_of_shape(spec)
        manager.add(secret_id, values[spec["name"]])
    yield metadata, manager, endpoint, values
    metadata.stop()
    manager.stop()


def secret_ids(**overrides: str) -> dict:
    return {s["name"]: f"af-{s['name'].replace('_', '-')}" for s in SPECS} | overrides


def run_role(tmp_path: Path, metadata: MetadataServer, endpoint: str, verbosity: str = "",
             ids: dict | None = None) -> subprocess.CompletedProcess:
    out = tmp_path / "secrets.json"
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False, "roles": ["cluster_secrets"],
        "vars": {"airflow_cluster_name": "af", "cluster_secrets_backend": "gcp_secret_manager",
                 "cluster_secrets_gcp_project": PROJECT,
                 "cluster_secrets_gcp_ids": ids or secret_ids()},
        "tasks": [{"name": "Keep what the role read", "ansible.builtin.copy": {
            "content": "{{ cluster_secrets | to_json }}", "dest": str(out), "mode": "0600"}, "no_log": True}],
    }]))
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "CLOUDSDK_CONFIG": str(home / "gcloud"),
           # google-auth's ADC: no key file, no gcloud login, so the metadata server's account (as in Cloud Build)
           "GCE_METADATA_HOST": metadata.address, "GCE_METADATA_IP": metadata.address,
           "AGK_SECRET_MANAGER_ENDPOINT": endpoint, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           "ANSIBLE_CONFIG": str(paths.ANSIBLE_DIR / "ansible.cfg"), "ANSIBLE_ROLES_PATH": str(paths.ANSIBLE_DIR / "roles"),
           "ANSIBLE_LOOKUP_PLUGINS": str(paths.ANSIBLE_DIR / "lookup_plugins")}
    env.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    playbook_bin = Path(sys.executable).with_name("ansible-playbook")
    result = subprocess.run([str(playbook_bin), "-i", "localhost,", "-c", "local", str(playbook), *([verbosity] if verbosity else [])],
                            env=env, capture_output=True, text=True, cwd=tmp_path, check=False)
    result.read = lambda: json.loads(out.read_text())  # type: ignore[attr-defined]
    return result


def test_an_accessor_reads_the_latest_version_of_every_secret_without_listing(tmp_path, standins):
    metadata, manager, endpoint, values = standins
    result = run_role(tmp_path, metadata, endpoint, "-vvv")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.read() == values, "every secret's newest version, decoded"
    asked = {permission for _, permission, _ in manager.calls}
    assert asked == {ACCESS}, f"the role asked for {asked}: an accessor holds {ACCESS} only"
    assert metadata.token_requests >= 1, "the credentials came from the metadata server"
    printed = result.stdout + result.stderr
    leaked = [name for name, value in values.items() if value in printed]
    assert not leaked, f"-vvv printed the values of {leaked}"


def test_the_control_an_accessor_may_not_list_versions(standins):
    """What made the collection's lookup fail on GCP, shown to fail here too: listing with the accessor's token."""
    metadata, manager, endpoint, _ = standins
    token = requests.get(f"http://{metadata.address}/computeMetadata/v1/instance/service-accounts/default/token",
                         headers={"Metadata-Flavor": "Google"}, timeout=10).json()["access_token"]
    listing = requests.get(f"{endpoint}/v1/projects/{PROJECT}/secrets/af-db-password/versions",
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert listing.status_code == 403 and LIST in listing.json()["error"]["message"], listing.text
    access = requests.get(f"{endpoint}/v1/projects/{PROJECT}/secrets/af-db-password/versions/latest:access",
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert access.status_code == 200, access.text


def test_a_secret_the_account_may_not_read_stops_the_play_naming_it(tmp_path, standins):
    metadata, manager, endpoint, values = standins
    manager.secrets["af-fernet-key"].grants.clear()
    result = run_role(tmp_path, metadata, endpoint, "-vvv")
    printed = result.stdout + result.stderr
    assert result.returncode != 0, "the play went on without the Fernet key"
    assert "af-fernet-key" in printed and "403" in printed and "secretAccessor" in printed, printed[-3000:]
    leaked = [name for name, value in values.items() if value in printed]
    assert not leaked, f"the failure printed the values of {leaked}"


def test_a_full_resource_name_is_read_from_its_own_project(tmp_path, standins):
    """The preflight accepts projects/P/secrets/ID in cluster_secrets_gcp_ids: the lookup reads that project's."""
    metadata, manager, endpoint, values = standins
    result = run_role(tmp_path, metadata, endpoint,
                      ids=secret_ids(db_password=f"projects/{PROJECT}/secrets/af-db-password"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.read() == values

