"""Edge workers on the local cluster (make demo's VMs, agk-edge among them): the NAS pipeline of the example DAGs.

example_nas_producer runs a task on a Celery worker and one on the Edge worker (executor="EdgeExecutor", queue
edge_queue) that writes the day's file into the NAS folder the Edge worker shares with the Celery workers and
publishes the nas_filestorage Asset; the scheduler starts example_nas_consumer, whose Celery task reads the file.
Also: the Edge worker is registered and healthy, its task's log is readable through the API and in the bucket,
restarting airflow-edge-worker mid-task costs the task nothing, and the Edge host holds none of the cluster's
Redis, DB or signing secrets and reaches neither Redis nor PostgreSQL.

Needs the local cluster up (scripts/deploy-tests.sh runs this suite first, on the cluster it brings up).
"""
import json
import subprocess
import time
from urllib.parse import quote

import pytest
import yaml

from kitlib import nas_pipeline, paths, testbed
from kitlib.airflow_api import AirflowApi

BED = testbed.load()
EDGE = BED.group("airflow_edge_workers")
MAIN = BED.group("airflow_main")[0]
WORKERS = BED.group("airflow_workers")
STORE = paths.SECRETS_ROOT / "local"
pytestmark = pytest.mark.skipif(not EDGE, reason="the local inventory has no Edge worker")
BUCKET = yaml.safe_load((paths.ANSIBLE_DIR / "inventories" / "local" / "group_vars" / "all.yml").read_text())[
    "airflow_remote_log_bucket"].removeprefix("gs://").split("/")[0]


def vm(name: str, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", "exec", name, "bash", "-c", command], capture_output=True, text=True)


@pytest.fixture(scope="module")
def api() -> AirflowApi:
    client = AirflowApi.for_cluster(BED, "local")
    client.wait_healthy()
    client.login()
    return client


def edge_workers(api) -> dict:
    return {w["worker_name"]: w for w in api.get("/edge_worker/ui/worker")["workers"]}


def test_edge_worker_is_registered_and_healthy(api):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        workers = edge_workers(api)
        if all(workers.get(name, {}).get("state") in ("idle", "running") for name in EDGE):
            break
        time.sleep(3)
    assert set(EDGE) <= set(workers), f"registered Edge workers: {sorted(workers)}"
    for name in EDGE:
        assert workers[name]["state"] in ("idle", "running"), workers[name]
        assert workers[name]["queues"] == testbed.role_default("airflow_edge_queues"), workers[name]
    print(f"edge workers: {json.dumps({n: {k: w[k] for k in ('state', 'queues', 'last_heartbeat')} for n, w in workers.items()})}")


def test_producer_edge_task_writes_the_file_the_consumer_reads(api):
    summary = nas_pipeline.run(api)
    print(json.dumps(summary, indent=2))
    producer = summary["producer"]
    assert producer["state"] == "success", summary
    assert producer["hosts"]["download"] in EDGE, f"the Edge task ran on {producer['hosts']['download']}"
    assert producer["executors"]["download"] == "EdgeExecutor", producer
    assert producer["hosts"]["plan"] in WORKERS, f"the Celery task ran on {producer['hosts']['plan']}"
    assert summary["consumer"]["state"] == "success", summary
    assert summary["consumer"]["hosts"]["parse"] in WORKERS, summary["consumer"]
    written, read = summary["written"], summary["read"]
    assert read["path"] == written["path"] and read["content"] == written["content"], (written, read)
    assert f"fetched on {producer['hosts']['download']}" in read["content"]
    # The Edge task's log, through the API (from the bucket once uploaded) and in the bucket itself.
    run_id = producer["run_id"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        log = api.task_log(nas_pipeline.PRODUCER, run_id, nas_pipeline.EDGE_TASK)
        if f"gs://{BUCKET}/logs" in log and "wrote " in log:
            break
        time.sleep(3)
    assert "wrote " in log and f"gs://{BUCKET}/logs" in log, f"Edge task log not read from the bucket: {log[:2000]}"
    gcs = BED.group("gcs_emulator")[0]
    prefix = quote(f"logs/dag_id={nas_pipeline.PRODUCER}/run_id={run_id}/task_id={nas_pipeline.EDGE_TASK}/", safe="")
    listing = vm(gcs, f"curl -sf 'http://127.0.0.1:{testbed.role_default('gcs_emulator_port')}/storage/v1/b/{BUCKET}/o?prefix={prefix}'")
    assert json.loads(listing.stdout or "{}").get("items"), f"no log object under {prefix}"


def test_edge_worker_restart_mid_task_costs_nothing(api):
    """A restart drains (SIGINT): the running task finishes on its first try, then the worker comes back."""
    edge = EDGE[0]
    before = vm(edge, "systemctl show -p MainPID --value airflow-edge-worker").stdout.strip()
    restarted = {}

    def restart_when_running(run_id):
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            tis = {ti["task_id"]: ti for ti in api.task_instances(nas_pipeline.PRODUCER, run_id)}
            if tis.get(nas_pipeline.EDGE_TASK, {}).get("state") == "running":
                time.sleep(3)
                started = time.monotonic()
                result = vm(edge, "systemctl restart airflow-edge-worker")
                restarted.update(seconds=time.monotonic() - started, rc=result.returncode, err=result.stderr)
                return
            time.sleep(1)
        raise AssertionError("the Edge task never ran")

    summary = nas_pipeline.run(api, work_seconds=20, started=restart_when_running)
    after = vm(edge, "systemctl show -p MainPID --value airflow-edge-worker").stdout.strip()
    print(f"restart waited {restarted.get('seconds', 0):.1f} s; producer {summary['producer']}")
    assert restarted.get("rc") == 0, restarted
    assert after != before, "airflow-edge-worker was not restarted"
    assert summary["producer"]["state"] == "success", summary
    assert summary["producer"]["tries"][nas_pipeline.EDGE_TASK] == 1, summary["producer"]
    assert restarted["seconds"] > 5, "the restart did not wait for the running task"
    assert summary["consumer"]["state"] == "success", summary


def test_edge_host_holds_no_cluster_secret_but_its_own():
    edge = EDGE[0]
    for secret in ("redis_main_password", "redis_worker_password", "redis_flower_password", "db_password",
                   "fernet_key", "api_secret_key", "fab_secret_key", "flower_password", "admin_password",
                   "jwt_signing_key_seed", "tls_key_seed"):
        value = (STORE / secret).read_text().strip()
        found = vm(edge, f"grep -rlF -- '{value}' /etc /opt/airflow/airflow.cfg /opt/airflow/*.lock 2>/dev/null | head -3")
        assert not found.stdout.strip(), f"{secret} is on the Edge host: {found.stdout}"
    # What it must hold: the edge secret it signs its calls with, in a file its user reads but others do not.
    edge_secret = (STORE / "edge_jwt_secret").read_text().strip()
    holder = vm(edge, f"grep -rlF -- '{edge_secret}' /etc/airflow").stdout.split()
    assert holder, "the Edge worker holds no edge secret"
    modes = vm(edge, "stat -c '%a %U:%G' " + " ".join(holder)).stdout.split("\n")
    assert all(m.startswith("640 root:") for m in modes if m), modes
    assert not vm(edge, "test -e /etc/airflow/jwt-signing-key.pem").returncode == 0
    assert vm(edge, "ls /etc/airflow/tls").stdout.split() == ["ca.pem"]


@pytest.mark.parametrize("target, port", [(MAIN, testbed.role_default("airflow_redis_port")),
                                          (BED.group("airflow_db_local")[0], 5432)])
def test_edge_host_cannot_reach_redis_or_postgresql(target, port):
    edge = EDGE[0]
    # As the airflow user (what task code runs as), with a short timeout: refused or filtered both fail.
    probe = vm(edge, f"runuser -u airflow -- timeout 5 bash -c 'exec 3<>/dev/tcp/{target}/{port}' && echo OPEN || echo CLOSED")
    assert probe.stdout.strip().endswith("CLOSED"), f"{edge} reached {target}:{port}"
    # Control: the API server is reachable from the same place.
    api_port = testbed.role_default("airflow_api_port")
    control = vm(edge, f"runuser -u airflow -- timeout 5 bash -c 'exec 3<>/dev/tcp/{MAIN}/{api_port}' && echo OPEN")
    assert control.stdout.strip() == "OPEN", f"{edge} cannot reach the API server either: {control}"
