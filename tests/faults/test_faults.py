"""Faults caused on purpose while DAG runs are in flight, on the local cluster (make demo's VMs).

Each fault hits a run of example_etl_pipeline whose eight `parse` tasks take WORK_SECONDS each (the DAG sets
no retries on them: the cluster's default_task_retries is what saves them). Every run must end in success,
the log of every task's final try must be in the bucket, and each fault prints two times: until the cluster
is whole again (API health all healthy, every Celery worker instance answering Flower) and until the run
ended. Faults that kill running tasks (a worker's main process SIGKILLed, as the OOM killer does; a worker
VM rebooted) must show a task on its second try; the others must cost no task a retry.

Needs the local cluster up (scripts/fault-tests.sh). Recovery times go to README.md (faults markers).
"""
import json
import subprocess
import time
from datetime import datetime
from urllib.parse import quote

import pytest
import requests
import yaml

from kitlib import paths, testbed
from kitlib.airflow_api import AirflowApi

BED = testbed.load()
CLUSTER = "local"
STORE = paths.SECRETS_ROOT / CLUSTER
MAIN = BED.group("airflow_main")[0]
WORKERS = BED.group("airflow_workers")
DB = BED.group("airflow_db_local")[0]
GCS = BED.group("gcs_emulator")[0]
DAG_ID = "example_etl_pipeline"
WORK_SECONDS = 20
RUN_TIMEOUT = 900
# the local inventory's log bucket, as the roles see it
BUCKET = yaml.safe_load((paths.ANSIBLE_DIR / "inventories" / "local" / "group_vars" / "all.yml").read_text())[
    "airflow_remote_log_bucket"].removeprefix("gs://").split("/")[0]
README_BEGIN, README_END = "<!-- faults:begin -->", "<!-- faults:end -->"


def vm(name: str, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", name, "bash", "-c", command], capture_output=True, text=True)


def restart_vm(name: str) -> None:
    """A reboot as the VM sees it: systemd is stopped (killed after 5 s) and boots again."""
    subprocess.run(["docker", "restart", "-t", "5", name], check=True, capture_output=True)


# name -> (what is done, on which task-running worker it must strike or None, does it kill running tasks)
FAULTS = {
    "worker process SIGKILL": (
        lambda: vm(WORKERS[0], "systemctl kill --kill-whom=main --signal=SIGKILL airflow-worker@1"), WORKERS[0], True),
    "worker VM reboot": (lambda: restart_vm(WORKERS[-1]), WORKERS[-1], True),
    "Redis restart": (lambda: vm(MAIN, "systemctl restart redis-server"), None, False),
    "PostgreSQL restart": (lambda: vm(DB, "systemctl restart postgresql"), None, False),
    "API server restart": (lambda: vm(MAIN, "systemctl restart airflow-webserver"), None, False),
    "scheduler SIGKILL": (
        lambda: vm(MAIN, "systemctl kill --kill-whom=main --signal=SIGKILL airflow-scheduler"), None, False),
    "main VM reboot": (lambda: restart_vm(MAIN), None, None),
}


@pytest.fixture(scope="module")
def api() -> AirflowApi:
    client = AirflowApi.for_cluster(BED, CLUSTER)
    client.wait_healthy()
    client.login()
    client.enable(DAG_ID)
    return client


@pytest.fixture(scope="module")
def results():
    data: dict = {}
    yield data
    if data:
        write_readme(data)
        print("\nfault recovery:\n" + json.dumps(data, indent=2))


def expected_workers() -> set:
    instances = testbed.role_default("airflow_worker_instances")
    return {f"worker{n}@{name}" for name in WORKERS
            for n in range(1, int(BED.hosts[name].vars.get("airflow_worker_instances", instances)) + 1)}


HEARTBEATS = {"scheduler": "latest_scheduler_heartbeat", "dag_processor": "latest_dag_processor_heartbeat",
              "triggerer": "latest_triggerer_heartbeat"}


def cluster_whole(api: AirflowApi, since: float) -> bool:
    """Whole again, as seen after `since` (Unix time): the API server answers with every component healthy,
    the scheduler, DAG processor and triggerer have heartbeated since, and every Celery worker instance
    answered Flower's inspect broadcast since (Flower keeps the last answer of a worker that died)."""
    try:
        health = api.health()
        if health.get("metadatabase", {}).get("status") != "healthy":
            return False
        for component, field in HEARTBEATS.items():
            beat = (health.get(component) or {}).get(field)
            if health[component].get("status") != "healthy" or not beat or \
                    datetime.fromisoformat(beat.replace("Z", "+00:00")).timestamp() <= since:
                return False
        resp = requests.get(BED.url("airflow_flower_port") + "/api/workers?refresh=1", timeout=30,
                            auth=("admin", (STORE / "flower_password").read_text().strip()),
                            verify=STORE / "ca.pem")
        answered = {name for name, info in resp.json().items() if info.get("timestamp", 0) > since}
        return resp.status_code == 200 and expected_workers() <= answered
    except (requests.RequestException, ValueError, KeyError):
        return False


def running_parse_on(api: AirflowApi, run_id: str, host: str | None, timeout: float = 240) -> None:
    """Wait until a parse task of the run is running (on host, when given): the fault must hit live work."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tis = api.task_instances(DAG_ID, run_id)
        if any(ti["task_id"] == "parse" and ti["state"] == "running" and (host is None or ti["hostname"] == host)
               for ti in tis):
            time.sleep(3)  # into the task's work, past its start-up
            return
        time.sleep(1)
    raise AssertionError(f"no parse task running{' on ' + host if host else ''} within {timeout}s: "
                         f"{[(ti['task_id'], ti['state'], ti['hostname']) for ti in tis]}")


def bucket_objects(run_id: str) -> set:
    out = vm(GCS, f"curl -sf 'http://127.0.0.1:{testbed.role_default('gcs_emulator_port')}/storage/v1/b/"
                  f"{BUCKET}/o?prefix={quote(f'logs/dag_id={DAG_ID}/run_id={run_id}/', safe='')}'")
    return {item["name"] for item in json.loads(out.stdout or "{}").get("items", [])}


def final_logs_missing(tis: list, run_id: str, timeout: float = 120) -> list:
    """Final-try log objects not (yet) in the bucket; a worker uploads each when its task process ends."""
    deadline = time.monotonic() + timeout
    while True:
        names = bucket_objects(run_id)
        missing = []
        for ti in tis:
            index = f"map_index={ti['map_index']}/" if ti["map_index"] >= 0 else ""
            key = f"task_id={ti['task_id']}/{index}attempt={ti['try_number']}.log"
            if not any(name.endswith(key) for name in names):
                missing.append(key)
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(3)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_run_survives(api, results, fault):
    inject, target, kills_tasks = FAULTS[fault]
    assert cluster_whole(api, time.time() - 60), "the cluster was not whole before the fault"
    run_id = api.trigger(DAG_ID, conf={"work_seconds": WORK_SECONDS})
    running_parse_on(api, run_id, target)

    hit, hit_at = time.monotonic(), time.time()
    inject()
    whole_after = None
    state = None
    deadline = hit + RUN_TIMEOUT
    while time.monotonic() < deadline:
        if whole_after is None and cluster_whole(api, hit_at):
            whole_after = time.monotonic() - hit
        try:
            state = api.run_state(DAG_ID, run_id)
        except requests.RequestException:
            state = None
        if state in ("success", "failed") and whole_after is not None:
            break
        time.sleep(2)
    done_after = time.monotonic() - hit

    api.login()  # the main VM's reboot drops nothing, but a fresh token costs nothing either
    tis = api.task_instances(DAG_ID, run_id)
    retried = sorted(f"{ti['task_id']}[{ti['map_index']}] try {ti['try_number']}" for ti in tis if ti["try_number"] > 1)
    results[fault] = {"whole again after (s)": round(whole_after or -1), "run ended after (s)": round(done_after),
                      "state": state, "tasks retried": len(retried)}
    print(f"\n{fault}: whole again after {whole_after and round(whole_after)} s, run {state} "
          f"{round(done_after)} s after the fault; retried: {retried or 'none'}")

    assert whole_after is not None, f"{fault}: the cluster was not whole again within {RUN_TIMEOUT}s"
    assert state == "success", f"{fault}: run {run_id} ended {state}: " \
        f"{[(ti['task_id'], ti['map_index'], ti['state'], ti['try_number']) for ti in tis]}"
    if kills_tasks:
        assert retried, f"{fault} struck no running task (every task on try 1): the fault proved nothing"
    elif kills_tasks is False:
        assert not retried, f"{fault} cost tasks a retry: {retried}"
    missing = final_logs_missing(tis, run_id)
    assert not missing, f"{fault}: final-try logs not in the bucket: {missing}"


def write_readme(data: dict) -> None:
    readme = paths.REPO / "README.md"
    text = readme.read_text()
    if README_BEGIN not in text or README_END not in text:
        return
    lines = [f"| fault (local test bed, 2 cores; a run of 8 x {WORK_SECONDS} s tasks in flight) "
             "| cluster whole again | run ended | tasks retried | run |", "|---|---|---|---|---|"]
    lines += [f"| {fault} | {r['whole again after (s)']} s | {r['run ended after (s)']} s | {r['tasks retried']} "
              f"| {r['state']} |" for fault, r in data.items()]
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_BEGIN}\n" + "\n".join(lines) + f"\n\n(written by tests/faults)\n{README_END}{tail}")
