"""Behaviour of the running cluster: a DAG run spread over every worker, task logs served from the
bucket, and a worker restart in the middle of a task that the task survives."""
import collections
import json
import time
from datetime import datetime, timezone

from conftest import CONSUMER_DAG_ID, DAG_ID, host, host_vars, hosts_of, port

# the local inventory's bucket (group_vars), as the roles see it
BUCKET = host_vars(hosts_of("airflow_main")[0])["airflow_remote_log_bucket"].removeprefix("gs://")


def iso(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def worker_journal_runs(worker_hosts, worker_instances_by_host, run_id, since):
    """Which Celery worker instance executed which task of run_id, from each instance's journal."""
    seen = collections.Counter()
    for name, h in worker_hosts.items():
        for n in range(1, worker_instances_by_host[name] + 1):
            out = h.check_output(f"journalctl -q -o cat -u airflow-worker@{n} --since '{since}'")
            seen[f"worker{n}@{name}"] += out.count(run_id)
    return seen


def test_dag_run_uses_every_worker(api, worker_hosts, worker_instances_by_host):
    since = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    # 8 parse tasks of 4 s each against 4 slots per worker instance: no single instance can take them all.
    run_id = api.trigger(DAG_ID, conf={"work_seconds": 4})
    assert api.wait_run(DAG_ID, run_id, timeout=600) == "success"
    tis = api.task_instances(DAG_ID, run_id)
    assert {ti["state"] for ti in tis} == {"success"}
    assert sum(1 for ti in tis if ti["task_id"] == "parse") == 8

    # Host level: every worker VM ran tasks (task instance hostnames).
    ran_on = collections.Counter(ti["hostname"] for ti in tis)
    assert set(worker_hosts) <= set(ran_on), f"tasks per host: {dict(ran_on)}"

    # Instance level: every airflow-worker@N logged tasks of this run (matters for the all-in-one VM).
    per_instance = worker_journal_runs(worker_hosts, worker_instances_by_host, run_id, since)
    idle = [w for w, count in per_instance.items() if count == 0]
    assert not idle, f"worker instances that ran nothing: {idle}; per instance: {dict(per_instance)}"
    print(f"run {run_id}: tasks per host {dict(ran_on)}, journal mentions per instance {dict(per_instance)}")


def test_task_log_comes_from_the_bucket(api):
    run_id = api.trigger(DAG_ID, conf={"sources": ["oslo"], "rows": 10})
    assert api.wait_run(DAG_ID, run_id, timeout=300) == "success"
    # The worker uploads the log when the task process has exited, which can be a moment after the
    # run is marked successful; until then the API server serves it from the worker's log server.
    deadline = time.monotonic() + 90
    log = ""
    while time.monotonic() < deadline:
        log = api.task_log(DAG_ID, run_id, "load")
        if f"gs://{BUCKET}/logs" in log:
            break
        time.sleep(2)
    assert f"gs://{BUCKET}/logs" in log, f"log not read from the bucket: {log[:2000]}"
    assert "loaded summary" in log, log[-2000:]

    # The object is in the emulator's bucket, and the worker deleted its local copy after uploading.
    gcs = host(hosts_of("gcs_emulator")[0])
    listing = json.loads(gcs.check_output(
        f"curl -sf 'http://127.0.0.1:{port('gcs_emulator_port')}/storage/v1/b/{BUCKET}/o?prefix=logs/dag_id={DAG_ID}/'"))
    names = [item["name"] for item in listing.get("items", [])]
    assert any(run_id in name and "task_id=load" in name for name in names), names[-20:]
    load_ti = next(ti for ti in api.task_instances(DAG_ID, run_id) if ti["task_id"] == "load")
    worker = host(load_ti["hostname"])
    local = worker.run(f"find /opt/airflow/logs -path '*{run_id}*' -name '*.log' -path '*task_id=load*'")
    assert local.stdout.strip() == "", f"local log not deleted: {local.stdout}"


def test_worker_restart_does_not_fail_a_running_task(api, worker_hosts, worker_instances_by_host):
    run_id = api.trigger(DAG_ID, conf={"sources": ["rome"], "rows": 10, "work_seconds": 25})
    deadline = time.monotonic() + 180
    running = None
    while time.monotonic() < deadline and running is None:
        running = next((ti for ti in api.task_instances(DAG_ID, run_id)
                        if ti["task_id"] == "parse" and ti["state"] == "running"), None)
        time.sleep(1)
    assert running, "parse never started"
    time.sleep(3)  # well inside its 25 s of work

    h = worker_hosts[running["hostname"]]
    units = [f"airflow-worker@{n}" for n in range(1, worker_instances_by_host[running["hostname"]] + 1)]
    started = time.monotonic()
    h.check_output(f"systemctl restart {' '.join(units)}")
    restart_seconds = time.monotonic() - started
    for unit in units:
        assert h.service(unit).is_running, f"{unit} did not come back"

    assert api.wait_run(DAG_ID, run_id, timeout=300) == "success"
    parse = next(ti for ti in api.task_instances(DAG_ID, run_id) if ti["task_id"] == "parse")
    assert parse["state"] == "success"
    assert parse["try_number"] == 1, f"the task was killed and retried (try {parse['try_number']})"
    # The stop waited for the task (warm shutdown) instead of killing it.
    assert restart_seconds > 10, f"restart took only {restart_seconds:.1f}s: the task cannot have finished"
    print(f"restart of {units} on {running['hostname']} waited {restart_seconds:.1f}s; task succeeded on try 1")


def test_asset_consumer_runs_after_the_producer(api):
    """example_etl_pipeline's load task updates an Asset; example_asset_consumer is scheduled on it."""
    run_id = api.trigger(DAG_ID, conf={"sources": ["oslo"], "rows": 5})
    assert api.wait_run(DAG_ID, run_id, timeout=300) == "success"
    produced_at = max(iso(ti["end_date"]) for ti in api.task_instances(DAG_ID, run_id))
    deadline = time.monotonic() + 180
    runs = []
    while time.monotonic() < deadline:
        runs = [r for r in api.get(f"/api/v2/dags/{CONSUMER_DAG_ID}/dagRuns", params={"limit": 100})["dag_runs"]
                if iso(r["run_after"]) >= produced_at and r["state"] == "success"]
        if runs:
            break
        time.sleep(2)
    assert runs, f"{CONSUMER_DAG_ID} did not run successfully after the asset update at {produced_at}"
