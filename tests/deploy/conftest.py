"""The git-push redeploy flow against the local cluster (make demo + agk-git), as Cloud Build runs it.

- The agk-git VM's git daemon stands in for the hosted repository; tests push to its main branch through
  127.0.0.1:$AGK_GIT_PORT.
- A "build" is cloudbuild.yaml itself: its steps are read from the file and run in order, in a fresh
  checkout of the pushed commit (what Cloud Build's /workspace is), with $COMMIT_SHA substituted. Only the
  environment differs: the local inventory (docker connection) instead of the GCP one (IAP), see LOCAL_ENV.
- Measurements go to README.md between <!-- deploy:begin --> and <!-- deploy:end --> at the end.

Needs the local cluster up and converged (scripts/deploy-tests.sh brings it up).
"""
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

from kitlib import paths  # noqa: E402
from kitlib.airflow_api import AirflowApi  # noqa: E402

GIT_URL = f"git://127.0.0.1:{os.environ.get('AGK_GIT_PORT', '9418')}/airflow-gcp-kit.git"
AIRFLOW_VMS = ["agk-main", "agk-worker1", "agk-worker2"]
WORKERS = ["agk-worker1", "agk-worker2"]
# Cloud Build's step environment, for the local test bed: local inventory, the inventory's own repo URL,
# no deploy key, no OS Login, no Terraform outputs.
LOCAL_ENV = {"AGK_INVENTORY": "inventories/local", "AGK_REPO_URL": "", "AGK_DEPLOY_KEY_SECRET": "",
             "AGK_TF_OUTPUTS": "", "AGK_OSLOGIN_SETUP": "0"}
README_BEGIN, README_END = "<!-- deploy:begin -->", "<!-- deploy:end -->"


def sh(*cmd, cwd=None, check=True, env=None, capture=True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(cmd), cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.STDOUT if capture else None)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{(result.stdout or '')[-4000:]}")
    return result


def vm(name: str, *cmd: str, check=True) -> str:
    return sh("docker", "exec", name, *cmd, check=check).stdout.strip()


def deployed_commit(name: str) -> str:
    """The commit whose dags/ the VM's DAG folder serves."""
    return Path(vm(name, "readlink", "/opt/airflow/dags")).parent.name


def clone_head(name: str) -> str:
    return vm(name, "git", "-C", "/opt/airflow/repo", "rev-parse", "HEAD")


def unit_pids(name: str) -> dict:
    out = vm(name, "bash", "-c", "systemctl list-units --no-legend --plain 'airflow-*' | awk '{print $1}' | "
                                 "while read u; do echo \"$u $(systemctl show -p MainPID --value $u)\"; done")
    return dict(line.split() for line in out.splitlines() if line.strip())


def unit_times(name: str, unit: str) -> dict:
    """MainPID, and when the unit last became active / began to stop (Unix seconds)."""
    out = vm(name, "systemctl", "show", unit, "-p", "ActiveEnterTimestamp", "-p", "ActiveExitTimestamp",
             "-p", "MainPID", "--timestamp=unix")
    return {k: int(v.lstrip("@") or 0) for k, v in (line.split("=", 1) for line in out.splitlines())}


@dataclass
class Build:
    commit: str
    status: str  # SUCCESS or FAILURE, as Cloud Build says
    failed_step: str | None
    steps: dict = field(default_factory=dict)  # step id -> seconds
    report: dict | None = None
    log: str = ""


class Remote:
    """The hosted repository (agk-git) and a developer's clone of it."""

    def __init__(self, workdir: Path):
        self.dev = workdir / "dev"
        self.builds = workdir / "builds"
        self.builds.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, GIT_AUTHOR_NAME="deploy-tests", GIT_AUTHOR_EMAIL="deploy-tests@example.invalid",
                        GIT_COMMITTER_NAME="deploy-tests", GIT_COMMITTER_EMAIL="deploy-tests@example.invalid")

    def git(self, *args, cwd=None) -> str:
        return sh("git", *args, cwd=cwd or self.dev, env=self.env).stdout.strip()

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
        """Run cloudbuild.yaml's steps for commit, in a fresh checkout of it (Cloud Build's /workspace)."""
        ws = self.builds / commit[:12]
        if not ws.exists():
            sh("git", "clone", "--quiet", GIT_URL, str(ws))
            sh("git", "-C", str(ws), "checkout", "--quiet", "--detach", commit)
        config = yaml.safe_load((ws / "cloudbuild.yaml").read_text())
        runner = BuildRun(ws, commit, config, extra_env or {})
        if background:
            runner.start()
            return runner
        return runner.wait()


class BuildRun:
    def __init__(self, ws: Path, commit: str, config: dict, extra_env: dict):
        self.ws, self.commit, self.config, self.extra_env = ws, commit, config, extra_env
        self.result = Build(commit=commit, status="WORKING", failed_step=None)
        self._proc = None
        self._steps = list(config["steps"])
        self._log = []

    def _step_cmd(self, step):
        subst = {"$COMMIT_SHA": self.commit, "${COMMIT_SHA}": self.commit}
        args = [subst.get(a, a) for a in step["args"]]
        env = dict(os.environ)
        for item in step.get("env", []):
            key, value = item.split("=", 1)
            env[key] = value
        env.update(LOCAL_ENV)
        env.update(self.extra_env)
        env["AGK_CACHE"] = str(paths.CACHE)  # the warm local cache, not /workspace/.cache
        env["AGK_DEPLOY_REPORT"] = str(self.ws / "deploy-report.json")
        return [step["entrypoint"], *args], env

    def start(self):
        import threading
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        for step in self._steps:
            cmd, env = self._step_cmd(step)
            t0 = time.monotonic()
            self._log.append(f"=== step {step['id']}\n")
            with subprocess.Popen(cmd, cwd=self.ws, env=env, text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, bufsize=1) as proc:
                for line in proc.stdout:  # streamed, so a test can act at a given point of the build
                    self._log.append(line)
            self.result.steps[step["id"]] = round(time.monotonic() - t0, 1)
            self._log.append(f"=== step {step['id']}: rc={proc.returncode}\n")
            if proc.returncode != 0:
                self.result.status, self.result.failed_step = "FAILURE", step["id"]
                break
        else:
            self.result.status = "SUCCESS"
        report = self.ws / "deploy-report.json"
        if self.result.status == "SUCCESS" and report.exists():
            self.result.report = json.loads(report.read_text())
            report.unlink()
        self.result.log = "".join(self._log)

    def wait_for_output(self, text: str, timeout: float = 600) -> None:
        """Block until the build's output contains text (or fail if the build ends first)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            lines = self._log[seen:]
            seen += len(lines)
            if any(text in line for line in lines):
                return
            if self.done():
                raise AssertionError(f"build ended without printing {text!r}:\n{self.result.log[-4000:]}")
            time.sleep(0.2)
        raise AssertionError(f"build did not print {text!r} within {timeout} s")

    def done(self) -> bool:
        return self.result.status != "WORKING"

    def wait(self) -> Build:
        if not hasattr(self, "_thread"):
            self._run()
        else:
            self._thread.join()
        return self.result


@pytest.fixture(scope="session")
def api() -> AirflowApi:
    password = (paths.SECRETS_ROOT / os.environ.get("AGK_CLUSTER_NAME", "local") / "admin_password").read_text().strip()
    client = AirflowApi(f"http://127.0.0.1:{os.environ.get('AGK_UI_PORT', '8080')}", "admin", password)
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
