"""The git-push redeploy flow against the local cluster (make demo + agk-git), as Cloud Build runs it.

- The cluster is ansible/inventories/local/hosts.yml (kitlib.testbed): its git_remote_local host's daemon
  stands in for the hosted repository; tests push to its main branch through its published loopback port.
- A "build" is cloudbuild.yaml itself, run by kitlib.cloudbuild in a fresh checkout of the pushed commit.
  Only the environment differs: the local inventory (docker connection) instead of the GCP one (IAP), see
  LOCAL_ENV.
- Measurements go to README.md between <!-- deploy:begin --> and <!-- deploy:end --> at the end.

Needs the local cluster up and converged (scripts/deploy-tests.sh brings it up).
"""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from kitlib import cloudbuild, paths, testbed
from kitlib.airflow_api import AirflowApi

REPO = Path(__file__).resolve().parents[2]
BED = testbed.load()
GIT_URL = f"{BED.url('git_remote_local_port', 'git')}/{testbed.role_default('git_remote_local_repo_name')}"
WORKERS = BED.group("airflow_workers")
AIRFLOW_VMS = sorted(set(BED.group("airflow_main")) | set(WORKERS))
# Cloud Build's step environment, for the local test bed: local inventory, the inventory's own repo URL,
# no deploy key, no OS Login, no Terraform outputs.
LOCAL_ENV = {"AGK_INVENTORY": "inventories/local", "AGK_REPO_URL": "", "AGK_DEPLOY_KEY_SECRET": "",
             "AGK_TF_OUTPUTS": "", "AGK_OSLOGIN_SETUP": "0"}
README_BEGIN, README_END = "<!-- deploy:begin -->", "<!-- deploy:end -->"


def sh(*cmd, cwd=None, env=None) -> subprocess.CompletedProcess:
    result = subprocess.run(list(cmd), cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{(result.stdout or '')[-4000:]}")
    return result


def vm(name: str, *cmd: str) -> str:
    return sh("docker", "exec", name, *cmd).stdout.strip()


def deployed_commit(name: str) -> str:
    """The commit whose dags/ the VM's DAG folder serves."""
    return Path(vm(name, "readlink", "/opt/airflow/dags")).parent.name


def clone_head(name: str) -> str:
    return vm(name, "git", "-C", "/opt/airflow/repo", "rev-parse", "HEAD")


def unit_pids(name: str) -> dict:
    """MainPID of every Airflow daemon on the VM. Oneshot jobs (the maintenance timers' services, the log shipping a
    worker instance's start pulls in) are left out: one that happens to be running has a PID that changes with
    every run, whatever the deploy did."""
    out = vm(name, "bash", "-c", "systemctl list-units --type=service --no-legend --plain 'airflow-*' | awk '{print $1}' | "
                                 "while read u; do echo \"$u $(systemctl show -p Type --value $u) "
                                 "$(systemctl show -p MainPID --value $u)\"; done")
    return {unit: pid for unit, kind, pid in (line.split() for line in out.splitlines() if line.strip())
            if kind != "oneshot"}


def unit_times(name: str, unit: str) -> dict:
    """MainPID, and when the unit last became active / began to stop (Unix seconds)."""
    out = vm(name, "systemctl", "show", unit, "-p", "ActiveEnterTimestamp", "-p", "ActiveExitTimestamp",
             "-p", "MainPID", "--timestamp=unix")
    return {k: int(v.lstrip("@") or 0) for k, v in (line.split("=", 1) for line in out.splitlines())}


class Remote:
    """The hosted repository (agk-git) and a developer's clone of it."""

    def __init__(self, workdir: Path):
        self.dev = workdir / "dev"
        self.builds = workdir / "builds"
        self.builds.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, GIT_AUTHOR_NAME="deploy-tests", GIT_AUTHOR_EMAIL="deploy-tests@example.invalid",
                        GIT_COMMITTER_NAME="deploy-tests", GIT_COMMITTER_EMAIL="deploy-tests@example.invalid")

    def git(self, *args) -> str:
        return sh("git", *args, cwd=self.dev, env=self.env).stdout.strip()

    def seed_from_working_tree(self) -> str:
        """Push this repository's working tree (a snapshot commit) to main, and clone it as the developer."""
        sha = sh("bash", str(REPO / "scripts" / "deploy" / "snapshot-commit.sh")).stdout.strip().splitlines()[-1]
        sh("git", "-C", str(REPO), "push", "--quiet", "--force", GIT_URL, f"{sha}:refs/heads/main")
        if not self.dev.exists():
            sh("git", "clone", "--quiet", GIT_URL, str(self.dev))
        self.git("fetch", "--quiet", "origin")
        self.git("checkout", "--quiet", "-B", "main", "origin/main")
        return sha

    def push(self, message: str, write: dict | None = None, edit=None) -> tuple[str, float]:
        """Commit files (path -> text, or None to delete) and/or an edit(dev_dir) callback; push to main.
        Returns (commit, time.monotonic() right after the push)."""
        for rel, text in (write or {}).items():
            path = self.dev / rel
            if text is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        if edit:
            edit(self.dev)
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)
        self.git("push", "--quiet", "origin", "HEAD:main")
        return self.git("rev-parse", "HEAD"), time.monotonic()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def build(self, commit: str, background: bool = False, extra_env: dict | None = None):
        """cloudbuild.yaml for commit, in a fresh checkout of it, against the local VMs (kitlib.cloudbuild)."""
        return cloudbuild.build(GIT_URL, commit, self.builds / commit[:12], {**LOCAL_ENV, **(extra_env or {})},
                                background=background)


@pytest.fixture(scope="session")
def api() -> AirflowApi:
    client = AirflowApi.for_cluster(BED, os.environ.get("AGK_CLUSTER_NAME", "local"))
    client.wait_healthy()
    client.login()
    return client


@pytest.fixture(scope="session")
def results():
    data: dict = {}
    yield data
    if data:
        write_readme(data)
        print("\ndeploy measurements:\n" + json.dumps(data, indent=2))


@pytest.fixture(scope="session")
def remote(tmp_path_factory, api, results) -> Remote:
    """agk-git's main = this working tree, deployed to every VM (the state each test starts from)."""
    r = Remote(tmp_path_factory.mktemp("deploy"))
    sha = r.seed_from_working_tree()
    build = r.build(sha)
    assert build.status == "SUCCESS", build.log[-6000:]
    assert all(deployed_commit(h) == sha for h in AIRFLOW_VMS)
    results["baseline"] = {"route": build.report["route"], "steps_s": build.steps}
    return r


def write_readme(data: dict) -> None:
    readme = REPO / "README.md"
    text = readme.read_text()
    if README_BEGIN not in text or README_END not in text:
        return
    rows = ["| measurement (local test bed, 2 cores) | value |", "|---|---|"]
    for key, label in [
        ("new_dag", "push -> new DAG visible in the API (DAG tests + deploy with reserialize)"),
        ("new_dag_refresh", "push -> new DAG visible, no reserialize (DAG processor refresh_interval 30 s)"),
        ("config", "config commit: build total (site.yml, rolling worker restarts)"),
        ("broken", "broken DAG commit: build fails at the DAG tests after"),
        ("same_commit", "same commit twice: second build total (nothing changed)"),
    ]:
        item = data.get(key)
        if not item:
            continue
        if key.startswith("new_dag"):
            value = (f"{item['visible_s']:.0f} s (DAG tests {item['steps_s'].get('dag-tests', 0):.0f} s, "
                     f"deploy {item['steps_s'].get('deploy', 0):.0f} s, route {item['route']})")
        elif key == "config":
            value = (f"{item['steps_s'].get('deploy', 0):.0f} s deploy, restarted {', '.join(item['restarted'])}; "
                     f"{item['tasks_running_at_restart']} tasks running when their worker began to restart; "
                     f"all {item['parse_tasks']} long tasks succeeded, try_number {item['try_numbers']}")
        elif key == "broken":
            value = f"{item['steps_s'].get('dag-tests', 0):.0f} s; VMs stayed on the previous commit, running run: {item['run_state']}"
        else:
            value = f"{sum(item['steps_s'].values()):.0f} s, route {item['route']}, restarts: {item['restarted'] or 'none'}"
        rows.append(f"| {label} | {value} |")
    table = "\n".join(rows) + "\n\n(written by tests/deploy; see [docs/redeploy.md](docs/redeploy.md))\n"
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_BEGIN}\n{table}{README_END}{tail}")
