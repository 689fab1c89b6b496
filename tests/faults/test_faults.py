"""Faults caused on purpose while DAG runs are in flight, on the local cluster (make demo's VMs).

Each fault hits a run of example_etl_pipeline whose eight `parse` tasks take WORK_SECONDS each (the DAG sets
no retries on them: the cluster's default_task_retries is what saves them). Every run must end in success,
the log of every try of every task must be in the bucket (a try killed with its worker included), and each fault
prints two times: until the cluster is whole again (API health all healthy, every Celery worker instance answering
Flower) and until the run ended. The main VM's log disk filled to the last byte is the eighth fault
(test_log_disk_full). The fault that kills running tasks (a worker's main process SIGKILLed, as the OOM killer does,
while the other worker VM reboots) must show a task on its second try; a main VM reboot and a frozen Redis may cost
a retry; the others must cost none.

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


def must(name: str, command: str) -> str:
    """vm(), for the commands that cause a fault: one that did not run is an error, not a survived fault."""
    result = vm(name, command)
    assert result.returncode == 0, f"{name}: {command!r} exited {result.returncode}: {result.stderr[-500:]}"
    return result.stdout.strip()


def restart_vm(name: str) -> None:
    """A reboot as the VM sees it: systemd is stopped (killed after 5 s) and boots again."""
    subprocess.run(["docker", "restart", "-t", "5", name], check=True, capture_output=True)


# What shows that a fault happened, read before and after it: it must differ afterwards. A unit's main PID and
# restart count (a restart or a kill), PID 1's start time (a VM reboot: a container's boot id is its host's).
def unit_identity(name: str, unit: str):
    return lambda: vm(name, f"systemctl show -p MainPID -p NRestarts --value {unit} | paste -sd/").stdout.strip()


def vm_boot(name: str):
    return lambda: vm(name, "cut -d' ' -f22 /proc/1/stat").stdout.strip()


def postmaster(name: str):
    return lambda: vm(name, "head -n1 /var/run/postgresql/*-main.pid 2>/dev/null").stdout.strip()


def at_once(*evidences):
    """Evidence of faults caused together: each one's, read together; every one must change."""
    return lambda: tuple(evidence() for evidence in evidences)


def happened(before, after) -> bool:
    if isinstance(before, tuple):
        return all(b and a and a != b for b, a in zip(before, after))
    return bool(after) and after != before


REDIS_FREEZE_SECONDS = 45


def freeze_redis_and_restart_a_worker() -> None:
    """Redis keeps its connections but answers nothing (SIGSTOP; a network partition looks the same to a
    client) while a worker is restarted: the worker's warm shutdown waits for its running tasks, then for Redis
    (Celery's event heartbeat retries until the broker answers, each try bounded by the kit's socket timeout),
    and the new worker joins once Redis is back. Publishing a task to the frozen Redis may fail and cost it a
    retry (the Celery executor gives up publishing after its retries), so retries are allowed here."""
    pid = must(MAIN, "pidof redis-server")
    must(MAIN, f"kill -STOP {pid}")
    try:
        # Really frozen: the process is stopped (state T), not merely signalled.
        assert must(MAIN, f"ps -o stat= -p {pid}").startswith("T"), "redis-server did not stop"
        must(WORKERS[0], "systemctl --no-block restart airflow-worker@1")
        time.sleep(REDIS_FREEZE_SECONDS)
        assert must(MAIN, f"ps -o stat= -p {pid}").startswith("T"), "redis-server ran again during the freeze"
    finally:
        vm(MAIN, f"kill -CONT {pid}")


# name -> (what is done, what shows it happened (read before and after), on which task-running workers it must
# strike (none: anywhere), does it kill running tasks)
FAULTS = {
    # Both worker faults at once, one per worker VM (as a zone losing one VM while another's worker is OOM-killed):
    # each waits about two minutes for the scheduler to declare its killed tasks lost (the task heartbeat timeout),
    # so together they cost that wait once.
    "worker process SIGKILL and another worker VM rebooted, at once": (
        lambda: (must(WORKERS[0], "systemctl kill --kill-whom=main --signal=SIGKILL airflow-worker@1"),
                 restart_vm(WORKERS[-1])),
        at_once(unit_identity(WORKERS[0], "airflow-worker@1"), vm_boot(WORKERS[-1])), {WORKERS[0], WORKERS[-1]}, True),
    "Redis restart": (lambda: must(MAIN, "systemctl restart redis-server"), unit_identity(MAIN, "redis-server"),
                      set(), False),
    "PostgreSQL restart": (lambda: must(DB, "systemctl restart postgresql"), postmaster(DB), set(), False),
    "API server restart": (lambda: must(MAIN, "systemctl restart airflow-webserver"),
                           unit_identity(MAIN, "airflow-webserver"), set(), False),
    "scheduler SIGKILL": (
        lambda: must(MAIN, "systemctl kill --kill-whom=main --signal=SIGKILL airflow-scheduler"),
        unit_identity(MAIN, "airflow-scheduler"), set(), False),
    "main VM reboot": (lambda: restart_vm(MAIN), vm_boot(MAIN), set(), None),
    f"Redis frozen {REDIS_FREEZE_SECONDS} s, a worker restarted meanwhile": (
        freeze_redis_and_restart_a_worker, unit_identity(WORKERS[0], "airflow-worker@1"), {WORKERS[0]}, None),
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


def running_parse_on(api: AirflowApi, run_id: str, hosts: set, timeout: float = 240) -> None:
    """Wait until a parse task of the run is running (on each of hosts, when given): the fault must hit live work."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tis = api.task_instances(DAG_ID, run_id)
        busy = {ti["hostname"] for ti in tis if ti["task_id"] == "parse" and ti["state"] == "running"}
        if busy and hosts <= busy:
            time.sleep(3)  # into the task's work, past its start-up
            return
        time.sleep(1)
    raise AssertionError(f"no parse task running{' on each of ' + str(sorted(hosts)) if hosts else ''} within "
                         f"{timeout}s: {[(ti['task_id'], ti['state'], ti['hostname']) for ti in tis]}")


def bucket_objects(run_id: str) -> set:
    out = vm(GCS, f"curl -sf 'http://127.0.0.1:{testbed.role_default('gcs_emulator_port')}/storage/v1/b/"
                  f"{BUCKET}/o?prefix={quote(f'logs/dag_id={DAG_ID}/run_id={run_id}/', safe='')}'")
    return {item["name"] for item in json.loads(out.stdout or "{}").get("items", [])}


def logs_missing(tis: list, run_id: str, timeout: float = 180) -> list:
    """Log objects of the run's tries not (yet) in the bucket, every try of every task: a supervisor uploads its
    try's log when the task process ends; the log of a try that died with its worker is shipped by the worker
    VM's log shipping (roles/airflow_maintenance) once the worker is back."""
    deadline = time.monotonic() + timeout
    while True:
        names = bucket_objects(run_id)
        missing = []
        for ti in tis:
            index = f"map_index={ti['map_index']}/" if ti["map_index"] >= 0 else ""
            for attempt in range(1, ti["try_number"] + 1):
                key = f"task_id={ti['task_id']}/{index}attempt={attempt}.log"
                if not any(name.endswith(key) for name in names):
                    missing.append(key)
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(3)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_run_survives(api, results, fault):
    inject, evidence, targets, kills_tasks = FAULTS[fault]
    assert cluster_whole(api, time.time() - 60), "the cluster was not whole before the fault"
    run_id = api.trigger(DAG_ID, conf={"work_seconds": WORK_SECONDS})
    running_parse_on(api, run_id, targets)

    before = evidence()
    assert all(before) if isinstance(before, tuple) else before, f"{fault}: nothing to tell the fault by before it"
    hit, hit_at = time.monotonic(), time.time()
    inject()
    proven = None
    whole_after = None
    state = None
    deadline = hit + RUN_TIMEOUT
    while time.monotonic() < deadline:
        if proven is None:
            after = evidence()
            if happened(before, after):
                proven = f"{before} -> {after}"
        if whole_after is None and proven and cluster_whole(api, hit_at):
            whole_after = time.monotonic() - hit
        try:
            state = api.run_state(DAG_ID, run_id)
        except requests.RequestException:
            state = None
        if state in ("success", "failed") and whole_after is not None:
            break
        if proven is None and time.monotonic() > hit + 180:
            break
        time.sleep(2)
    done_after = time.monotonic() - hit

    api.login()  # the main VM's reboot drops nothing, but a fresh token costs nothing either
    tis = api.task_instances(DAG_ID, run_id)
    retried = sorted(f"{ti['task_id']}[{ti['map_index']}] try {ti['try_number']}" for ti in tis if ti["try_number"] > 1)
    print(f"\n{fault}: happened ({proven}); whole again after {whole_after and round(whole_after)} s, run {state} "
          f"{round(done_after)} s after the fault; retried: {retried or 'none'}")

    assert proven, f"{fault}: nothing shows it happened ({before} before, {evidence()} 3 minutes after)"
    assert whole_after is not None, f"{fault}: the cluster was not whole again within {RUN_TIMEOUT}s"
    assert state == "success", f"{fault}: run {run_id} ended {state}: " \
        f"{[(ti['task_id'], ti['map_index'], ti['state'], ti['try_number']) for ti in tis]}"
    if kills_tasks:
        assert retried, f"{fault} struck no running task (every task on try 1): the fault proved nothing"
    elif kills_tasks is False:
        assert not retried, f"{fault} cost tasks a retry: {retried}"
    missing = logs_missing(tis, run_id)
    assert not missing, f"{fault}: logs not in the bucket: {missing}"
    # Recorded (and written to the README) only when every check above held.
    results[fault] = {"whole again after (s)": round(whole_after), "run ended after (s)": round(done_after),
                      "state": state, "tasks retried": len(retried)}


LOGS_DIR = testbed.role_default("airflow_logs_dir").replace("{{ airflow_home }}", testbed.role_default("airflow_home"))
# The main VM's log file system, for this test: a small tmpfs holding what the logs directory holds, bound over
# it (the test bed's VMs share the host's disk, which cannot be filled). The daemons that write there are
# restarted onto it: each unit runs in a mount namespace of its own (PrivateTmp), which sees no mount made after
# it started.
LOG_DISK_MB = 16
LOG_DISK = "/run/agk-log-disk"
LOG_WRITERS = "airflow-dag-processor airflow-triggerer"


def airflow_journal_errors(unit: str, since: str) -> int:
    """How often the unit logged ENOSPC since then (a journal timestamp)."""
    out = vm(MAIN, f"journalctl -q -o cat -u {unit} --since '{since}' | grep -c 'No space left on device' || true")
    return int((out.stdout.strip() or "0").splitlines()[-1])


def since_heartbeat(api: AirflowApi, component: str) -> float | None:
    """Seconds since the component's last heartbeat, as the API server reports it (None: no answer)."""
    try:
        beat = (api.health().get(component) or {}).get(HEARTBEATS[component])
        return time.time() - datetime.fromisoformat(beat.replace("Z", "+00:00")).timestamp() if beat else None
    except (requests.RequestException, ValueError, AttributeError):
        return None


def test_log_disk_full(api, results):
    """The main VM's log disk full to the last byte: the DAG processor exits on its first log write (systemd
    starts it again every 5 s), so DAG files are not parsed, while DAGs already parsed run on (task logs are
    written and uploaded on the workers). Once space is freed the DAG processor comes back by itself."""
    fault = "main VM log disk full, then freed"
    since = vm(MAIN, "date -u '+%Y-%m-%d %H:%M:%S UTC'").stdout.strip()
    uid, gid = vm(MAIN, "echo $(id -u airflow) $(id -g airflow)").stdout.split()
    mount = vm(MAIN, f"mkdir -p {LOG_DISK} && mount -t tmpfs -o size={LOG_DISK_MB}m,uid={uid},gid={gid},mode=0750 "
                     f"agk-log-disk {LOG_DISK} && cp -a {LOGS_DIR}/. {LOG_DISK}/ && mount --bind {LOG_DISK} {LOGS_DIR} "
                     f"&& systemctl restart {LOG_WRITERS}")
    assert mount.returncode == 0, mount.stderr
    try:
        # Filled the way a runaway writer fills it, as the airflow user: every free block, then the slack at the
        # end of each existing file, so that no append finds room either.
        vm(MAIN, f"runuser -u airflow -- dd if=/dev/zero of={LOGS_DIR}/filler bs=64k status=none; "
                 f"find {LOGS_DIR} -type f ! -name filler -exec runuser -u airflow -- "
                 f"dd if=/dev/zero bs=1 of={{}} oflag=append conv=notrunc status=none \\; ; true")
        free = vm(MAIN, f"df --output=avail -B1 {LOGS_DIR} | tail -1").stdout.strip()
        assert free == "0", f"the log disk still has {free} bytes free"

        hit = time.monotonic()
        run_id = api.trigger(DAG_ID, conf={"work_seconds": 5})
        state_full = api.wait_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)
        full_run = time.monotonic() - hit
        tis_full = api.task_instances(DAG_ID, run_id)
        # The DAG processor meets ENOSPC at its first parse log line and exits; give it a parse interval.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not airflow_journal_errors("airflow-dag-processor", since):
            time.sleep(3)
        restarts_full = int(vm(MAIN, "systemctl show -p NRestarts --value airflow-dag-processor").stdout.strip() or 0)
        errors = airflow_journal_errors("airflow-dag-processor", since)

        freed = time.monotonic()
        freed_at = time.time()
        vm(MAIN, f"rm -f {LOGS_DIR}/filler")
        # Back by itself: a heartbeat after the space was freed, and parse logs written again.
        back_after = None
        while time.monotonic() < freed + 180:
            age = since_heartbeat(api, "dag_processor")
            if age is not None and age < time.time() - freed_at:
                back_after = time.monotonic() - freed
                break
            time.sleep(2)
        fresh = vm(MAIN, f"find {LOGS_DIR} -type f ! -name filler -newermt @{int(freed_at)} | head -3").stdout.split()
        run_id_after = api.trigger(DAG_ID, conf={"work_seconds": 5})
        state_after = api.wait_run(DAG_ID, run_id_after, timeout=RUN_TIMEOUT)
    finally:
        vm(MAIN, f"rm -f {LOGS_DIR}/filler; umount -l {LOGS_DIR}; umount -l {LOG_DISK}; systemctl restart {LOG_WRITERS}")

    print(f"\n{fault}: a run while full {state_full} in {full_run:.0f} s; the DAG processor logged ENOSPC {errors} "
          f"times and was restarted {restarts_full} times by systemd; back {back_after and round(back_after)} s "
          f"after freeing, parse logs written again: {fresh}; a run after freeing: {state_after}")
    assert state_full == "success", f"the run while the log disk was full ended {state_full}"
    assert not logs_missing(tis_full, run_id), "logs of the run while full are not in the bucket"
    assert errors, "the DAG processor never met the full disk: the fault proved nothing"
    assert back_after is not None, "the DAG processor did not heartbeat within 180 s of freeing the log disk"
    assert fresh, "no parse log written after freeing the log disk"
    assert state_after == "success", f"the run after freeing the log disk ended {state_after}"
    results[fault] = {"whole again after (s)": round(back_after), "run ended after (s)": round(full_run),
                      "state": f"{state_full} while full, {state_after} after",
                      "tasks retried": sum(1 for ti in tis_full if ti["try_number"] > 1)}


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
