"""git push to main -> cloudbuild.yaml (DAG tests, deploy) -> the local VMs, end to end.

The tests run in this order and share the cluster: each starts from the commit the previous left
deployed. See conftest.py for how a push and a build are made locally.
"""
import datetime as dt
import time
import uuid

import pytest
import requests

from conftest import AIRFLOW_VMS, WORKERS, clone_head, deployed_commit, unit_pids, unit_times, vm

ETL = "example_etl_pipeline"


def probe_dag(dag_id: str) -> str:
    return f'''"""Probe DAG pushed by tests/deploy: one task that reports its host."""
import socket

import pendulum
from airflow.sdk import dag, task


@dag(dag_id="{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
     catchup=False, tags=["deploy-test"], doc_md=__doc__)
def probe():
    @task
    def hello() -> str:
        return socket.gethostname()

    hello()


probe()
'''


def wait_visible(api, dag_id: str, pushed_at: float, build, timeout: float = 300) -> float:
    """Seconds from the push until GET /api/v2/dags/{dag_id} answers 200 (polled every 0.5 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api._call("GET", f"/api/v2/dags/{dag_id}").status_code == 200:
            return time.monotonic() - pushed_at
        if build.done() and build.result.status != "SUCCESS":
            pytest.fail(f"build failed before {dag_id} became visible:\n{build.result.log[-6000:]}")
        time.sleep(0.5)
    pytest.fail(f"{dag_id} not visible {timeout} s after the push")


def run_probe(api, dag_id: str) -> list:
    api.unpause(dag_id)
    run_id = api.trigger(dag_id)
    assert api.wait_run(dag_id, run_id, timeout=180) == "success"
    return api.task_instances(dag_id, run_id)


@pytest.mark.parametrize("reserialize", [True, False], ids=["reserialize", "refresh-interval"])
def test_new_dag_becomes_visible_and_runs(remote, api, results, reserialize):
    dag_id = f"deploy_probe_{uuid.uuid4().hex[:8]}"
    commit, pushed_at = remote.push(f"Add {dag_id}", write={f"dags/{dag_id}.py": probe_dag(dag_id)})
    env = {} if reserialize else {"AGK_ANSIBLE_ARGS": "-e airflow_dags_reserialize=false"}
    build = remote.build(commit, background=True, extra_env=env)
    visible_s = wait_visible(api, dag_id, pushed_at, build)
    result = build.wait()
    assert result.status == "SUCCESS", result.log[-6000:]
    assert result.report["route"] == "dags", result.report
    assert result.report["restarted"] == []
    assert all(deployed_commit(h) == commit and clone_head(h) == commit for h in AIRFLOW_VMS)
    tis = run_probe(api, dag_id)
    assert [ti["state"] for ti in tis] == ["success"]
    results["new_dag" if reserialize else "new_dag_refresh"] = {
        "visible_s": round(visible_s, 1), "steps_s": result.steps, "route": result.report["route"]}


def _parse_tis(api, run_id):
    return [ti for ti in api.task_instances(ETL, run_id) if ti["task_id"] == "parse"]


def _ts(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _through_api_restarts(call, timeout: float = 180):
    """call(), retried while the API server restarts (connection refused or reset), for at most timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def test_running_tasks_survive_a_config_deploy(remote, api, results):
    """A config change restarts every worker, one VM at a time, each after its running tasks finished."""
    _through_api_restarts(lambda: api.unpause(ETL))  # an earlier deploy may have just restarted the API server
    before = {h: unit_times(h, "airflow-worker@1") for h in WORKERS}

    def touch_config(dev):
        path = dev / "ansible" / "inventories" / "local" / "group_vars" / "all.yml"
        text = path.read_text()
        marker = "airflow_extra_env:\n"
        assert marker in text
        path.write_text(text.replace(marker, f"{marker}  AGK_DEPLOY_MARK: \"{uuid.uuid4().hex[:8]}\"\n", 1))

    commit, _ = remote.push("Config change: a new environment variable on every Airflow VM", edit=touch_config)
    build = remote.build(commit, background=True)
    # Long tasks must be running on the workers when the play's handlers restart them at its end. How long the rest
    # of the play takes depends on the machine (from the configuration write to the restarts: some 40 s once, 210 s
    # on a loaded 2-core machine with the task runner's role), so two runs of 150 s tasks (the DAG allows two at
    # once) bracket it: one started when site.yml writes the Airflow configuration, one when the maintenance role,
    # the last but one, begins. At least one of them overlaps the restarts on a fast or a slow machine.
    conf = {"sources": ["berlin", "lisbon", "oslo", "paris"], "rows": 50, "work_seconds": 150}
    run_ids, running = [], []
    for marker in ("TASK [airflow_install : Write the configuration", "TASK [airflow_maintenance : "):
        build.wait_for_output(marker)
        # By the second marker the play has restarted the API server (its configuration changed too): calls retry
        # while it comes back.
        run_id = _through_api_restarts(lambda: api.trigger(ETL, conf=conf))
        deadline = time.monotonic() + 120
        while not any(ti["state"] == "running" for ti in _through_api_restarts(lambda: _parse_tis(api, run_id))):
            assert time.monotonic() < deadline, f"no parse task of {run_id} started"
            time.sleep(1)
        run_ids.append(run_id)
        running += [ti for ti in _parse_tis(api, run_id) if ti["state"] == "running"]
    result = build.wait()
    assert result.status == "SUCCESS", result.log[-6000:]
    report = result.report
    assert report["route"] == "converge"
    assert "Restart the Celery workers, one at a time" in report["restarted"], report

    parse = []
    for run_id in run_ids:
        assert api.wait_run(ETL, run_id, timeout=600) == "success"
        tis = api.task_instances(ETL, run_id)
        assert all(ti["state"] == "success" and ti["try_number"] == 1 for ti in tis), \
            [(ti["task_id"], ti["map_index"], ti["state"], ti["try_number"]) for ti in tis]
        parse += _parse_tis(api, run_id)

    after = {h: unit_times(h, "airflow-worker@1") for h in WORKERS}
    # Tasks that were running on a worker when its stop began; the new worker started only after each of
    # them had finished: a warm shutdown, nothing killed. (With tasks of equal length, those on the worker
    # restarted second may already be done while it waits its turn.)
    overlapped = []
    for host in WORKERS:
        assert after[host]["MainPID"] != before[host]["MainPID"], f"{host}: worker was not restarted"
        for ti in (ti for ti in parse if ti["hostname"] == host):
            if _ts(ti["start_date"]) < after[host]["ActiveExitTimestamp"] < _ts(ti["end_date"]):
                overlapped.append(ti)
                assert after[host]["ActiveEnterTimestamp"] >= int(_ts(ti["end_date"])), (host, after[host], ti)
    assert overlapped, ("no task was running on a worker when its restart began", after,
                        [(ti["hostname"], ti["start_date"], ti["end_date"]) for ti in parse])
    # One worker VM at a time: the second stop began after the first worker was back.
    first, second = sorted(WORKERS, key=lambda h: after[h]["ActiveExitTimestamp"])
    assert after[second]["ActiveExitTimestamp"] >= after[first]["ActiveEnterTimestamp"], after
    results["config"] = {"steps_s": result.steps, "restarted": report["restarted"],
                         "tasks_running_at_deploy": len(running), "tasks_running_at_restart": len(overlapped),
                         "parse_tasks": len(parse),
                         "try_numbers": sorted({ti["try_number"] for ti in parse})}


BROKEN_DAG = '''"""A DAG that cannot be imported: the DAG tests must stop the build."""
import pendulum
from airflow.sdk import dag, task
from a_module_that_does_not_exist import helper  # noqa: F401
'''


def test_broken_dag_is_not_deployed_and_running_runs_keep_running(remote, api, results):
    previous = remote.head()
    assert all(deployed_commit(h) == previous for h in AIRFLOW_VMS)
    run_id = api.trigger(ETL, conf={"sources": ["rome", "vienna"], "rows": 20, "work_seconds": 20})
    commit, _ = remote.push("Add a broken DAG", write={"dags/broken_dag.py": BROKEN_DAG})
    result = remote.build(commit)
    assert result.status == "FAILURE" and result.failed_step == "dag-tests", result.log[-4000:]
    assert "deploy" not in result.steps
    assert "broken_dag.py" in result.log
    for host in AIRFLOW_VMS:
        assert deployed_commit(host) == previous, host
        assert clone_head(host) == previous, host
    state = api.wait_run(ETL, run_id, timeout=300)
    assert state == "success"
    results["broken"] = {"steps_s": result.steps, "run_state": state}

    # What a developer does next: revert. main is deployable again (and the next tests start from it).
    remote.git("revert", "--no-edit", "HEAD")
    remote.git("push", "--quiet", "origin", "HEAD:main")
    fixed = remote.build(remote.head())
    assert fixed.status == "SUCCESS", fixed.log[-6000:]
    assert all(deployed_commit(h) == remote.head() for h in AIRFLOW_VMS)


def test_deploying_the_same_commit_twice_changes_nothing(remote, api, results):
    commit = remote.head()
    assert all(deployed_commit(h) == commit for h in AIRFLOW_VMS)
    pids = {h: unit_pids(h) for h in AIRFLOW_VMS}
    for host in AIRFLOW_VMS:
        vm(host, "touch", "/run/agk-deploy-marker")
    time.sleep(1.1)
    result = remote.build(commit)
    assert result.status == "SUCCESS", result.log[-6000:]
    report = result.report
    assert report["route"] == "unchanged" and report["changed"] is False and report["restarted"] == [], report
    assert report["playbook"] is None
    for host in AIRFLOW_VMS:
        assert unit_pids(host) == pids[host], f"{host}: a service restarted"
        touched = vm(host, "find", "/opt/airflow/releases", "/opt/airflow/dags/", "/opt/airflow/repo",
                     "/etc/airflow", "-newer", "/run/agk-deploy-marker")
        assert touched == "", f"{host}: files changed:\n{touched}"
        assert deployed_commit(host) == commit
    results["same_commit"] = {"steps_s": result.steps, "route": report["route"], "restarted": report["restarted"]}
