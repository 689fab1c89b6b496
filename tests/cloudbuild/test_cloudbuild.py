"""A push's two builds run exactly the repository's scripts: cloudbuild.yaml the DAG tests only, and
cloudbuild-deploy.yaml (started by the test build's success) the deploy of the tested commit.

No cluster needed (scripts/test.sh's unit stage). The local deploy tests (tests/deploy) run these same scripts
against the local VMs, chained as the triggers chain them (kitlib.cloudbuild).
"""
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TRIGGERS_TF = REPO / "terraform" / "modules" / "cloudbuild" / "main.tf"
EXPECTED = {
    "cloudbuild.yaml": [("dag-tests", ["scripts/deploy/dag-tests.sh"])],
    "cloudbuild-deploy.yaml": [("deploy", ["scripts/deploy/deploy.sh", "$_COMMIT"])],
}


def load(name: str) -> dict:
    return yaml.safe_load((REPO / name).read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_steps_call_exactly_these_scripts_in_this_order(name):
    steps = load(name)["steps"]
    assert [(s.get("id"), s.get("entrypoint"), s.get("args")) for s in steps] == \
        [(step_id, "bash", args) for step_id, args in EXPECTED[name]]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_called_script_exists_and_is_a_bash_script(name):
    for step in load(name)["steps"]:
        script = REPO / step["args"][0]
        assert script.is_file(), script
        assert script.read_text().startswith("#!/usr/bin/env bash\n"), script


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_steps_run_in_sequence_and_log_to_cloud_logging(name):
    build = load(name)
    # No waitFor: each step waits for the previous one; nothing may fail and go on.
    assert all("waitFor" not in step and not step.get("allowFailure") for step in build["steps"])
    # A build with a user-managed service account must log to Cloud Logging.
    assert build["options"]["logging"] == "CLOUD_LOGGING_ONLY"


def test_the_test_build_holds_no_deploy_input():
    """The DAG tests import code anyone who can push wrote: their build gets no inventory, no secret id, no
    repository URL, and no substitution at all."""
    build = load("cloudbuild.yaml")
    assert "substitutions" not in build
    text = (REPO / "cloudbuild.yaml").read_text()
    assert not re.search(r"AGK_(INVENTORY|DEPLOY_KEY_SECRET|TF_OUTPUTS|REPO_URL|OSLOGIN_SETUP)", text), text


def test_deploy_targets_the_gcp_inventory_and_the_tested_commit():
    build = load("cloudbuild-deploy.yaml")
    deploy = build["steps"][0]
    env = dict(item.split("=", 1) for item in deploy["env"])
    assert env["AGK_INVENTORY"] == "inventories/gcp"
    assert (REPO / "ansible" / env["AGK_INVENTORY"]).is_dir()
    # The tested commit, and the commit this build's checkout is at (deploy.sh deploys nothing when they differ).
    assert deploy["args"][-1] == "$_COMMIT" and env["AGK_BUILT_COMMIT"] == "$COMMIT_SHA"


def test_every_substitution_is_declared_and_set_by_the_deploy_trigger():
    build = load("cloudbuild-deploy.yaml")
    text = (REPO / "cloudbuild-deploy.yaml").read_text()
    used = set(re.findall(r"\$\{?(_[A-Z_]+)\}?", yaml.safe_dump(build["steps"])))
    assert used <= set(build["substitutions"]), used - set(build["substitutions"])
    trigger_tf = TRIGGERS_TF.read_text()
    deploy_trigger = trigger_tf[trigger_tf.index('resource "google_cloudbuild_trigger" "deploy"'):]
    for name in build["substitutions"]:
        assert re.search(rf"\b{name}\s+=", deploy_trigger), f"{name} is not set by the deploy trigger"
    assert "cloudbuild-deploy.yaml" in deploy_trigger and "$_COMMIT" in text


def test_the_deploy_trigger_deploys_only_a_successful_test_build():
    trigger_tf = TRIGGERS_TF.read_text()
    deploy_trigger = trigger_tf[trigger_tf.index('resource "google_cloudbuild_trigger" "deploy"'):]
    assert '_TEST_TRIGGER == \\"${google_cloudbuild_trigger.test.trigger_id}\\"' in deploy_trigger
    assert '_TEST_STATUS == \\"SUCCESS\\"' in deploy_trigger
    assert re.search(r'_COMMIT\s*=\s*"\$\(body\.message\.data\.substitutions\.COMMIT_SHA\)"', deploy_trigger)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_builder_image_names_a_release(name):
    """A moving tag (:slim, :latest, none) changes the image under a build without a commit: the deploy step's
    :slim once lost python3-venv that way, and the deploy stopped before it ran anything."""
    for step in load(name)["steps"]:
        image = step["name"]
        assert re.search(r"(@sha256:[0-9a-f]{64}|:[A-Za-z_-]*\d+(\.\d+)+[\w.-]*)$", image), \
            f"{name}: step {step.get('id')} runs {image}, a tag that moves"
