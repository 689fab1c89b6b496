"""cloudbuild.yaml runs exactly the repository's scripts, in order: DAG tests, then the deploy.

No cluster needed (scripts/test.sh's unit stage). The local deploy tests (tests/deploy) run these same
scripts against the local VMs.
"""
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXPECTED = [
    ("dag-tests", ["scripts/deploy/dag-tests.sh"]),
    ("deploy", ["scripts/deploy/deploy.sh", "$COMMIT_SHA"]),
]


@pytest.fixture(scope="module")
def build():
    return yaml.safe_load((REPO / "cloudbuild.yaml").read_text())


def test_steps_call_exactly_these_scripts_in_this_order(build):
    steps = build["steps"]
    assert [(s.get("id"), s.get("entrypoint"), s.get("args")) for s in steps] == \
        [(step_id, "bash", args) for step_id, args in EXPECTED]


def test_each_called_script_exists_and_is_a_bash_script(build):
    for step in build["steps"]:
        script = REPO / step["args"][0]
        assert script.is_file(), script
        assert script.read_text().startswith("#!/usr/bin/env bash\n"), script


def test_steps_run_in_sequence(build):
    # No waitFor: each step waits for the previous one, so a failed test step deploys nothing.
    assert all("waitFor" not in step for step in build["steps"])
    assert all(not step.get("allowFailure") for step in build["steps"])


def test_deploy_targets_the_gcp_inventory_and_the_built_commit(build):
    deploy = build["steps"][1]
    env = dict(item.split("=", 1) for item in deploy["env"])
    assert env["AGK_INVENTORY"] == "inventories/gcp"
    assert (REPO / "ansible" / env["AGK_INVENTORY"]).is_dir()
    assert deploy["args"][-1] == "$COMMIT_SHA"
    # Every substitution the steps use is declared (and set by the trigger, terraform/modules/cloudbuild).
    used = {v.strip("${}") for v in env.values() if v.startswith("${_")}
    assert used <= set(build["substitutions"]), used - set(build["substitutions"])
    trigger_tf = (REPO / "terraform" / "modules" / "cloudbuild" / "main.tf").read_text()
    for name in used:
        assert f"{name} " in trigger_tf, f"{name} is not set by the trigger in terraform/modules/cloudbuild"


def test_user_managed_service_account_logging(build):
    assert build["options"]["logging"] == "CLOUD_LOGGING_ONLY"
