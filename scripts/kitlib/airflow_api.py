"""A small client for the Airflow 3 REST API (v2), as the demo, tests and benchmarks use it."""
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from . import paths


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str, ca_file: str | Path, timeout: float = 30):
        """ca_file: the cluster CA certificate; the API server's certificate is always verified against it."""
        self.base = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        # Passed with every request: a session-wide verify loses to REQUESTS_CA_BUNDLE in the environment.
        self.verify = str(ca_file)
        self.session = requests.Session()
        self._token_at = 0.0

    @classmethod
    def for_cluster(cls, bed, cluster_name: str, **kwargs) -> "AirflowApi":
        """The admin's client for a local cluster: its published API port, and the admin password and CA
        certificate that site.yml keeps on the control machine for that cluster."""
        store = paths.SECRETS_ROOT / cluster_name
        return cls(bed.url("airflow_api_port"), "admin", (store / "admin_password").read_text().strip(),
                   store / "ca.pem", **kwargs)

    # --- auth -------------------------------------------------------------------------------------
    def login(self) -> None:
        """POST /auth/token with the FAB user's credentials; the JWT goes into every later call."""
        resp = self.session.post(f"{self.base}/auth/token", timeout=self.timeout, verify=self.verify,
                                 json={"username": self.username, "password": self.password})
        resp.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        self._token_at = time.monotonic()

    def _call(self, method: str, path: str, **kwargs):
        if time.monotonic() - self._token_at > 600:
            self.login()
        kwargs.setdefault("verify", self.verify)
        resp = self.session.request(method, f"{self.base}{path}", timeout=self.timeout, **kwargs)
        if resp.status_code == 401:
            self.login()
            resp = self.session.request(method, f"{self.base}{path}", timeout=self.timeout, **kwargs)
        return resp

    def get(self, path: str, **kwargs) -> dict:
        resp = self._call("GET", path, **kwargs)
        resp.raise_for_status()
        return resp.json()

    # --- health -----------------------------------------------------------------------------------
    def health(self) -> dict:
        return requests.get(f"{self.base}/api/v2/monitor/health", timeout=self.timeout, verify=self.verify).json()

    def wait_healthy(self, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.health()
                components = ("metadatabase", "scheduler", "dag_processor", "triggerer")
                if all(last.get(c, {}).get("status") == "healthy" for c in components):
                    return last
            except requests.RequestException as exc:
                last = str(exc)
            time.sleep(2)
        raise TimeoutError(f"API server not healthy after {timeout}s: {last}")

    # --- DAGs and runs ----------------------------------------------------------------------------
    def wait_dag(self, dag_id: str, timeout: float = 300) -> dict:
        """Wait until the DAG processor has parsed the DAG: it appears in the API and is not stale.

        A stale DAG (its file was gone at the last listing, or not parsed lately) is still listed, but the API
        refuses to trigger it (404): a test that writes a DAG file right after removing one of the same id
        sees the old row first."""
        deadline = time.monotonic() + timeout
        dag = None
        while time.monotonic() < deadline:
            resp = self._call("GET", f"/api/v2/dags/{dag_id}")
            if resp.status_code == 200:
                dag = resp.json()
                if not dag.get("is_stale"):
                    return dag
            time.sleep(1)
        errors = self.get("/api/v2/importErrors").get("import_errors", [])
        seen = "not listed" if dag is None else f"listed but stale (last parsed {dag.get('last_parsed_time')})"
        raise TimeoutError(f"DAG {dag_id} {seen} after {timeout}s; import errors: {errors}")

    def enable(self, dag_id: str, timeout: float = 300) -> dict:
        """Wait until the DAG is parsed, then unpause it (new DAGs start paused)."""
        dag = self.wait_dag(dag_id, timeout=timeout)
        self.unpause(dag_id)
        return dag

    def unpause(self, dag_id: str) -> None:
        resp = self._call("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})
        resp.raise_for_status()

    def trigger(self, dag_id: str, conf: dict | None = None, logical_date: str | None = "now",
                run_id: str | None = None) -> str:
        """Trigger a run (named run_id, or as the API names it). A logical date is given by default: DAGs that
        render {{ ds }} need one."""
        if logical_date == "now":
            logical_date = datetime.now(timezone.utc).isoformat()
        body = {"logical_date": logical_date, "conf": conf or {}}
        if run_id is not None:
            body["dag_run_id"] = run_id
        # The API refuses a DAG it lists as stale (404), and CI saw a 404 right after the DAG was listed (the
        # probe DAG on the demo cluster): a bounded retry, then the error with the API's reason.
        deadline = time.monotonic() + 60
        while True:
            resp = self._call("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)
            if resp.status_code != 404 or time.monotonic() > deadline:
                break
            time.sleep(2)
        if not resp.ok:
            raise requests.HTTPError(f"trigger {dag_id}: {resp.status_code} {resp.text[:500]}", response=resp)
        return resp.json()["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            try:
                state = self.run_state(dag_id, run_id)
            except requests.RequestException as exc:  # the API server restarting, or its VM
                state = f"unknown ({exc.__class__.__name__})"
                time.sleep(2)
                continue
            if state in ("success", "failed"):
                return state
            time.sleep(1)
        raise TimeoutError(f"run {dag_id}/{run_id} still {state} after {timeout}s")

    def task_instances(self, dag_id: str, run_id: str) -> list:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                        params={"limit": 1000})["task_instances"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1,
                 map_index: int = -1) -> str:
        data = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
                        params={"full_content": "true", "map_index": map_index},
                        headers={"Accept": "application/json"})
        content = data.get("content", "")
        if isinstance(content, list):
            return "\n".join(part if isinstance(part, str) else str(part.get("event", part))
                             for part in content)
        return str(content)
