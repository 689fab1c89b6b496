"""A local stand-in for Cloud Build: a push's builds, run in order in a fresh checkout of the commit (what Cloud
Build's /workspace is): cloudbuild.yaml (the DAG tests) and, only when it succeeds, cloudbuild-deploy.yaml, as
terraform/modules/cloudbuild chains them (the deploy trigger listens for the test build's success). $COMMIT_SHA
and the deploy build's $_COMMIT are the commit; each step's env is applied.

Only the environment can differ from Cloud Build: `env` is applied over each step's own env (tests/deploy
points the deploy step at the local inventory this way). AGK_CACHE is this machine's warm cache rather than
/workspace/.cache, and the deploy step's JSON report (AGK_DEPLOY_REPORT) is read into Build.report.
A step's output is streamed into the build log, so a caller can act at a given point of a running build.
"""
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import paths


@dataclass
class Build:
    commit: str
    status: str  # WORKING, then SUCCESS or FAILURE, as Cloud Build says
    failed_step: str | None = None
    steps: dict = field(default_factory=dict)  # step id -> seconds
    report: dict | None = None  # the deploy step's JSON report
    log: str = ""


# The builds of a push, in the order the triggers chain them: each starts only if the one before succeeded.
CONFIGS = ("cloudbuild.yaml", "cloudbuild-deploy.yaml")


class BuildRun:
    def __init__(self, workspace: Path, commit: str, env: dict | None = None):
        self.ws, self.commit, self.env = Path(workspace), commit, dict(env or {})
        self.configs = [yaml.safe_load((self.ws / name).read_text()) for name in CONFIGS]
        self.result = Build(commit=commit, status="WORKING")
        self.report_file = self.ws / "deploy-report.json"
        self._log: list = []
        self._thread: threading.Thread | None = None

    def substitute(self, text: str) -> str:
        for name in ("COMMIT_SHA", "_COMMIT"):
            text = text.replace("${" + name + "}", self.commit).replace("$" + name, self.commit)
        return text

    def step_command(self, step: dict) -> tuple[list, dict]:
        args = [self.substitute(a) for a in step["args"]]
        env = dict(os.environ)
        env.update(self.substitute(item).split("=", 1) for item in step.get("env", []))
        env.update(self.env)
        env["AGK_CACHE"] = str(paths.CACHE)
        env["AGK_DEPLOY_REPORT"] = str(self.report_file)
        return [step["entrypoint"], *args], env

    def start(self) -> "BuildRun":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        for step in (step for config in self.configs for step in config["steps"]):
            cmd, env = self.step_command(step)
            t0 = time.monotonic()
            self._log.append(f"=== step {step['id']}\n")
            with subprocess.Popen(cmd, cwd=self.ws, env=env, text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, bufsize=1) as proc:
                for line in proc.stdout:
                    self._log.append(line)
            self.result.steps[step["id"]] = round(time.monotonic() - t0, 1)
            self._log.append(f"=== step {step['id']}: rc={proc.returncode}\n")
            if proc.returncode != 0:
                self.result.status, self.result.failed_step = "FAILURE", step["id"]
                break
        else:
            self.result.status = "SUCCESS"
        if self.result.status == "SUCCESS" and self.report_file.exists():
            self.result.report = json.loads(self.report_file.read_text())
            self.report_file.unlink()
        self.result.log = "".join(self._log)

    def wait_for_output(self, text: str, timeout: float = 600) -> None:
        """Block until the build's output contains text (fail if the build ends first)."""
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
        if self._thread is None:
            self._run()
        else:
            self._thread.join()
        return self.result


def checkout(repo_url: str, commit: str, workspace: Path) -> Path:
    """A fresh clone of repo_url at commit (reused if workspace exists already)."""
    workspace = Path(workspace)
    if not workspace.exists():
        subprocess.run(["git", "clone", "--quiet", repo_url, str(workspace)], check=True)
        subprocess.run(["git", "-C", str(workspace), "checkout", "--quiet", "--detach", commit], check=True)
    return workspace


def build(repo_url: str, commit: str, workspace: Path, env: dict | None = None,
          background: bool = False) -> "BuildRun | Build":
    """Run cloudbuild.yaml of commit in a fresh checkout of it: a Build, or the running BuildRun."""
    run = BuildRun(checkout(repo_url, commit, workspace), commit, env)
    return run.start() if background else run.wait()
