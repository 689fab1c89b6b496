"""The task forkserver (roles/airflow_task_runner) behaves like the fork it replaces: the supervisor's signals reach
the task across the user boundary, a killed supervisor or launcher takes its task along, and restarting the
forkserver leaves running tasks alone. A probe DAG with one sleeping task, written into every DAG folder.
"""
import time

import pytest

from conftest import host, hosts_of
from kitlib.testbed import role_default

# The same forkserver on every task VM: proved on the multi-host cluster's workers (conftest: multi_host_proof).
pytestmark = pytest.mark.multi_host_proof

DAG_ID = "kit_task_runner_probe"
DAGS_DIR = role_default("airflow_dags_dir").replace("{{ airflow_home }}", role_default("airflow_home"))
TASK_USER = role_default("airflow_task_user")
DAG = f'''
"""Probe DAG of the kit's tests (molecule/shared/tests/test_task_runner.py): never deployed."""
import os, time
from airflow.sdk import dag, task


@dag(dag_id="{DAG_ID}", schedule=None, catchup=False, tags=["kit-test"])
def kit_task_runner_probe():
    @task(retries=0)
    def sleeper(**context):
        seconds = int(context["dag_run"].conf.get("seconds", 40))
        print(f"task pid {{os.getpid()}} sleeping {{seconds}} s", flush=True)
        with open("left-by-a-task.py", "w") as handle:
            handle.write("raise SystemExit('a later task imported what an earlier one left')\\n")
        time.sleep(seconds)
        return {{"pid": os.getpid(), "cwd": os.getcwd(), "home": os.environ["HOME"], "tmp": os.environ["TMPDIR"]}}

    sleeper()


kit_task_runner_probe()
'''
AIRFLOW_HOSTS = sorted(set(hosts_of("airflow_main")) | set(hosts_of("airflow_workers")))


@pytest.fixture(scope="module")
def probe_dag(api):
    for name in AIRFLOW_HOSTS:
        host(name).run(f"cat > {DAGS_DIR}/{DAG_ID}.py <<'EOF'\n{DAG}\nEOF\nchmod 0644 {DAGS_DIR}/{DAG_ID}.py")
    try:
        api.enable(DAG_ID, timeout=300)
        yield
    finally:
        for name in AIRFLOW_HOSTS:
            host(name).run(f"rm -f {DAGS_DIR}/{DAG_ID}.py")


def start_sleeper(api, seconds: int) -> tuple:
    """Trigger a run; wait until its task runs; (run id, the task's host, the task process's pid)."""
    run_id = api.trigger(DAG_ID, conf={"seconds": seconds}, logical_date=None)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ti = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/sleeper")
        if ti["state"] == "running" and ti["hostname"]:
            pid = task_pid(ti["hostname"], ti["id"])
            if pid:
                return run_id, ti["hostname"], pid
        time.sleep(1)
    raise TimeoutError(f"{run_id}: the sleeper never ran")


def task_pid(name: str, ti_id: str) -> str:
    """The task process of a task instance (its title is 'airflow worker -- <ti id>'), as the task user."""
    out = host(name).run(f"pgrep -u {TASK_USER} -f 'airflow worker -- {ti_id}'").stdout.split()
    return out[0] if out else ""


def gone(name: str, pid: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host(name).run(f"kill -0 {pid}").rc != 0:
            return True
        time.sleep(1)
    return False


def test_task_marked_failed_is_stopped_by_its_supervisor(api, probe_dag):
    """The API server tells the supervisor (the worker's user) that its task must stop; the supervisor's signals
    reach the task (the task user's process) through the launcher and the forkserver's keeper, so it ends within
    the supervisor's own escalation (SIGINT, then SIGTERM, then SIGKILL 5 s apart). Control: the same task left
    alone is still running by then."""
    run_id, name, pid = start_sleeper(api, 300)
    assert not gone(name, pid, 10), "control: the task ended on its own"
    resp = api._call("PATCH", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/sleeper",
                     json={"new_state": "failed"})
    assert resp.ok, resp.text
    assert gone(name, pid, 60), f"task process {pid} on {name} still runs a minute after its task was failed"
    keepers = host(name).run(f"pgrep -u {TASK_USER} -f 'airflow-task keeper'").stdout.split()
    assert not keepers or all(gone(name, k, 10) for k in keepers), f"keepers left behind on {name}: {keepers}"


def test_forkserver_restart_leaves_a_running_task_alone(api, probe_dag):
    """A configuration change restarts the forkserver; the task it had started runs on and succeeds on its first
    try, and the next task starts from the new forkserver."""
    run_id, name, pid = start_sleeper(api, 25)
    before = host(name).check_output("systemctl show -p MainPID --value airflow-task-forkserver").strip()
    host(name).check_output("systemctl restart airflow-task-forkserver")
    after = host(name).check_output("systemctl show -p MainPID --value airflow-task-forkserver").strip()
    assert after != before, "the forkserver was not restarted"
    assert api.wait_run(DAG_ID, run_id, timeout=300) == "success"
    ti = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/sleeper")
    assert ti["try_number"] == 1, ti
    next_run = api.trigger(DAG_ID, conf={"seconds": 1}, logical_date=None)
    assert api.wait_run(DAG_ID, next_run, timeout=300) == "success"


def test_each_task_starts_in_a_folder_of_its_own_that_goes_with_it(api, probe_dag):
    """Nothing a task writes where it stands (its working directory, HOME, TMPDIR) is there for the next one: a
    module left in the working directory would be imported first by a task's `python -c`."""
    seen = []
    for _ in range(2):
        run_id = api.trigger(DAG_ID, conf={"seconds": 1}, logical_date=None)
        assert api.wait_run(DAG_ID, run_id, timeout=300) == "success"
        xcom = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/sleeper/xcomEntries/return_value")
        ti = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/sleeper")
        seen.append((ti["hostname"], xcom["value"]))
    for name, where in seen:
        assert where["cwd"] == where["home"] == where["tmp"], where
        assert where["cwd"].startswith(role_default("airflow_task_home") + "/work/"), where
        assert host(name).run(f"test -e {where['cwd']}").rc != 0, f"{where['cwd']} is still on {name} after its task ended"
    assert seen[0][1]["cwd"] != seen[1][1]["cwd"]
