"""Maintenance (roles/airflow_maintenance): every timer is on, the main VM's jobs on the main VM only and the log
shipping on every worker VM; each job's service, run once, exits 0, removes what is older than its retention and
keeps what is newer (the log shipping: ships what no process holds, keeps what a live one writes); the journal's
limits are in effect on every Airflow VM.

Old data is made for the occasion and marked with a random token: metadata rows written straight into
PostgreSQL (as its superuser, on the DB host), log files written as the airflow user under the DAG processor's
log folder. The retention each job applies is read from its unit, so the test follows the role's variables.
"""
import base64
import json
import re
import secrets
import shlex
import time
from urllib.parse import quote

import pytest

from conftest import config_value, host, host_vars, hosts_of, port
from kitlib.testbed import role_default

# Worker VMs' jobs on worker VMs only: on one VM there is none (conftest: multi_host_proof).
pytestmark = pytest.mark.multi_host_proof

MAIN = hosts_of("airflow_main")[0]
AIRFLOW_HOSTS = sorted(set(hosts_of("airflow_main")) | set(hosts_of("airflow_workers")))
UNIT_DIR = "/etc/systemd/system"
WORKERS = hosts_of("airflow_workers")
JOBS = {name: job for name, job in role_default("airflow_maintenance_jobs").items() if job.get("enabled", True)}
MAIN_JOBS = sorted(name for name, job in JOBS.items() if job.get("runs_on", "main") == "main")
WORKER_JOBS = sorted(name for name, job in JOBS.items() if job.get("runs_on") == "workers")
BUCKET = host_vars(MAIN)["airflow_remote_log_bucket"].removeprefix("gs://")
PROBE_DAG = "kit_maintenance_probe"
# journald's "System Journal (...) is X, max Y, Z free." message (sd-messages.h, SD_MESSAGE_JOURNAL_USAGE)
JOURNAL_USAGE_ID = "ec387f577b844b8fa948f33cad9a75e6"
JOURNALD_DROPIN = "/etc/systemd/journald.conf.d/90-airflow-gcp-kit.conf"


def sql(query: str) -> list:
    """Run SQL in the metadata DB as PostgreSQL's superuser; the rows' lines (psql -qAt)."""
    db = host(hosts_of("airflow_db_local")[0])
    encoded = base64.b64encode(query.encode()).decode()
    out = db.check_output(f"echo {encoded} | base64 -d | runuser -u postgres -- psql -qAt -v ON_ERROR_STOP=1 "
                          f"-d {role_default('airflow_db_name')}")
    return [line for line in out.splitlines() if line.strip()]


def exec_start(h, job: str) -> list:
    text = h.file(f"{UNIT_DIR}/airflow-maintenance-{job}.service").content_string
    return shlex.split(re.search(r"^ExecStart=(.*)$", text, re.M).group(1))


def option(argv: list, name: str) -> str:
    return argv[argv.index(name) + 1]


def as_airflow(h, argv: list):
    """argv as the airflow user with the units' environment (what /usr/local/bin/airflow does for the CLI)."""
    script = "cd /opt/airflow && set -a && . /etc/airflow/airflow.env && set +a && exec \"$@\""
    return h.run(f"runuser -u airflow -- /bin/sh -c {shlex.quote(script)} sh {shlex.join(argv)}")


def run_job(h, job: str):
    """Start the job's service once; a oneshot's start returns when the job has ended."""
    unit = f"airflow-maintenance-{job}.service"
    # a run its timer started (the test bed may be up at the scheduled hour) ends first: then ours is a run of its own
    h.run(f"timeout 900 sh -c 'while [ \"$(systemctl is-active {unit})\" = activating ]; do sleep 2; done'")
    result = h.run(f"systemctl start {unit}")
    journal = h.run(f"journalctl -q -o cat -n 40 -u {unit}").stdout
    assert result.rc == 0, f"{unit} failed:\n{result.stderr}\n{journal}"
    state = h.check_output(f"systemctl show -p Result -p ExecMainStatus {unit}")
    assert "Result=success" in state and "ExecMainStatus=0" in state, f"{state}\n{journal}"
    return journal


def timers_are_on(h, jobs: list, timeout: float = 60) -> None:
    """Every job's timer is enabled, active and scheduled; checked again for up to timeout seconds, since a timer
    whose service is running at that moment (the log shipping runs often) can briefly show no next run."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _timers_are_on(h, jobs)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(5)


def _timers_are_on(h, jobs: list) -> None:
    listed = h.check_output("systemctl list-timers --all --no-legend --no-pager 'airflow-maintenance-*'")
    for job in jobs:
        timer = f"airflow-maintenance-{job}.timer"
        assert timer in listed, f"{timer} not in list-timers:\n{listed}"
        assert h.service(timer).is_enabled, f"{timer} not enabled"
        assert h.service(timer).is_running, f"{timer} not active"
        assert h.check_output(f"systemctl show -P NextElapseUSecRealtime {timer}"), f"{timer} has no next run"
        assert h.check_output(f"systemctl show -P User airflow-maintenance-{job}.service") == "airflow"


def test_every_timer_is_enabled_and_active(main_host):
    timers_are_on(main_host, MAIN_JOBS)


@pytest.mark.parametrize("name", WORKERS)
def test_worker_vms_run_the_worker_jobs(name):
    h = host(name)
    timers_are_on(h, WORKER_JOBS)
    # ... and, when they start, with every Celery worker instance
    for job in WORKER_JOBS:
        wants = h.check_output("systemctl show -P Wants airflow-worker@1.service").split()
        assert f"airflow-maintenance-{job}.service" in wants, f"airflow-worker@1 does not start {job}: {wants}"


def test_no_main_vm_units_beyond_the_main_vm():
    wanted = {f"airflow-maintenance-{job}.{kind}" for job in WORKER_JOBS for kind in ("service", "timer")}
    others = set(WORKERS) - set(hosts_of("airflow_main"))
    assert others, "no worker VM apart from the main VM: this check needs the multi-host layout (multi_host_proof)"
    for name in others:
        found = set(host(name).run(f"ls {UNIT_DIR} | grep '^airflow-maintenance-'").stdout.split())
        assert found == wanted, f"{name} has maintenance units {sorted(found)}, wants {sorted(wanted)}"


def bucket_object(name: str) -> str | None:
    """The bucket object's content, or None when there is none."""
    gcs = host(hosts_of("gcs_emulator")[0])
    result = gcs.run(f"curl -sf 'http://127.0.0.1:{port('gcs_emulator_port')}/storage/v1/b/{BUCKET}/o/"
                     f"{quote(name, safe='')}?alt=media'")
    return result.stdout if result.rc == 0 else None


def test_log_shipping_ships_what_a_dead_supervisor_left_and_leaves_live_logs(worker_hosts):
    """A task log that no process holds and that is older than the settle time goes to the bucket (and is deleted
    here); one that a live process holds open stays where it is."""
    name = WORKERS[0]
    h = worker_hosts[name]
    argv = exec_start(h, "log-shipping")
    settle = int(option(argv, "--settle"))
    base = config_value(name, "logging", "base_log_folder").rstrip("/")
    remote = config_value(name, "logging", "remote_base_log_folder").removeprefix(f"gs://{BUCKET}/").strip("/")
    token = secrets.token_hex(4)
    task_dir = f"dag_id=kit_ship_probe/run_id=probe-{token}/task_id=work"
    dead, live = f"{task_dir}/attempt=1.log", f"{task_dir}/attempt=2.log"
    setup = " && ".join([
        f"mkdir -p {base}/{task_dir}",
        f"echo 'left by a dead supervisor {token}' > {base}/{dead}",
        f"touch -d @{int(time.time()) - settle - 30} {base}/{dead}",
        f"echo 'written by a live one {token}' > {base}/{live}",
        f"touch -d @{int(time.time()) - settle - 30} {base}/{live}",
    ])
    made = as_airflow(h, ["/bin/sh", "-c", setup])
    assert made.rc == 0, made.stderr
    # the live supervisor: a process of the airflow user holding its log open
    holder = h.run(f"runuser -u airflow -- setsid sh -c 'exec 3>>{base}/{live}; exec sleep 300' "
                   "</dev/null >/dev/null 2>&1 & echo $!")
    try:
        journal = run_job(h, "log-shipping")
        assert f"shipped {dead}" in journal, journal
        assert bucket_object(f"{remote}/{dead}") is not None, f"{dead} is not in gs://{BUCKET}/{remote}"
        assert f"left by a dead supervisor {token}" in bucket_object(f"{remote}/{dead}")
        assert not h.file(f"{base}/{dead}").exists, "the shipped log is still on the VM"
        assert h.file(f"{base}/{live}").exists, "the log a live process holds was shipped"
        assert bucket_object(f"{remote}/{live}") is None, "the log a live process holds was uploaded"
    finally:
        h.run(f"kill {holder.stdout.strip()}; rm -rf {base}/dag_id=kit_ship_probe")


def test_db_clean_purges_old_rows_and_keeps_new_ones(main_host):
    argv = exec_start(main_host, "db-clean")
    assert "--dry-run" not in argv, "airflow_maintenance_db_clean_dry_run is on: the job would purge nothing"
    days = int(option(argv, "--retention-days"))
    token = secrets.token_hex(4)
    old = f"now() - interval '{days + 30} days'"
    markers = {f"kit-maint-old-{token}", f"kit-maint-new-{token}", f"old-{token}", f"new-{token}"}

    def present() -> set:
        return set(sql(f"SELECT event FROM log WHERE event LIKE 'kit-maint-%-{token}' UNION ALL "
                       f"SELECT run_id FROM dag_run WHERE dag_id = '{PROBE_DAG}' AND run_id LIKE '%-{token}'"))

    sql(f"""
        INSERT INTO log (dttm, event, extra) VALUES
          ({old}, 'kit-maint-old-{token}', 'test_maintenance'), (now(), 'kit-maint-new-{token}', 'test_maintenance');
        INSERT INTO dag_run (dag_id, run_id, run_type, state, start_date, end_date, run_after, clear_number, span_status)
        VALUES ('{PROBE_DAG}', 'old-{token}', 'manual', 'success', {old}, {old}, {old}, 0, 'not_started'),
               ('{PROBE_DAG}', 'new-{token}', 'manual', 'success', now(), now(), now(), 0, 'not_started');
    """)
    try:
        assert present() == markers
        # dry run: the unit's command with --dry-run counts the old rows and deletes nothing
        result = as_airflow(main_host, argv + ["--dry-run"])
        assert result.rc == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert "dry run" in result.stdout
        assert present() == markers

        run_job(main_host, "db-clean")
        assert present() == {f"kit-maint-new-{token}", f"new-{token}"}
        # nothing is left behind in the DB: no archive (skip) or archives exported and dropped (export)
        archives = sql("SELECT tablename FROM pg_tables WHERE tablename LIKE '\\_airflow\\_deleted\\_\\_%'")
        assert archives == [], archives
        if option(argv, "--archive") == "export":
            export_dir = option(argv, "--export-dir")
            assert main_host.run(f"grep -rl 'kit-maint-old-{token}' {export_dir}").rc == 0, "old row not exported"
    finally:
        sql(f"DELETE FROM log WHERE event LIKE 'kit-maint-%-{token}'; "
            f"DELETE FROM dag_run WHERE dag_id = '{PROBE_DAG}' AND run_id LIKE '%-{token}';")


def test_state_store_clean_deletes_expired_rows_only(main_host):
    token = secrets.token_hex(4)
    run_id = f"state-{token}"
    ids = [line for line in sql(f"""
        INSERT INTO dag_run (dag_id, run_id, run_type, state, start_date, end_date, run_after, clear_number, span_status)
        VALUES ('{PROBE_DAG}', '{run_id}', 'manual', 'success', now(), now(), now(), 0, 'not_started') RETURNING id;
    """) if line.isdigit()]
    assert len(ids) == 1, ids
    try:
        # expires_at is what Airflow sets from [state_store] default_retention_days when a task writes a key;
        # NULL (retention 0) never expires
        rows = ", ".join(
            f"({ids[0]}, 'probe', -1, '{key}-{token}', '{PROBE_DAG}', '{run_id}', 'v', now() - interval '2 days', {expires})"
            for key, expires in [("expired", "now() - interval '1 hour'"), ("live", "now() + interval '1 day'"),
                                 ("forever", "NULL")])
        sql("INSERT INTO task_state_store (dag_run_id, task_id, map_index, key, dag_id, run_id, value, updated_at, "
            f"expires_at) VALUES {rows};")
        run_job(main_host, "state-store-clean")
        keys = sql(f"SELECT key FROM task_state_store WHERE dag_run_id = {ids[0]} ORDER BY key")
        assert keys == [f"forever-{token}", f"live-{token}"]
    finally:
        # the run's state rows go with it (ON DELETE CASCADE)
        sql(f"DELETE FROM dag_run WHERE dag_id = '{PROBE_DAG}' AND run_id = '{run_id}';")


def test_log_grooming_deletes_old_dag_processor_logs_and_keeps_new_ones(main_host):
    argv = exec_start(main_host, "log-grooming")
    days = int(option(argv, "--days"))
    groomed = [d.rstrip("/") for d in argv[argv.index("--days") + 2:]]
    dag_processor_dir = config_value(MAIN, "logging", "dag_processor_child_process_log_directory").rstrip("/")
    assert dag_processor_dir in groomed, f"the DAG processor logs to {dag_processor_dir}, the job grooms {groomed}"
    token = secrets.token_hex(4)
    base = f"{dag_processor_dir}/kit-maint-{token}"
    # outside the groomed folder, reachable only through a symlink inside it
    outside = f"{config_value(MAIN, 'logging', 'base_log_folder').rstrip('/')}/kit-maint-outside-{token}"
    ago = f"@{int(time.time()) - (days + 10) * 86400}"  # touch -d: that many seconds since the epoch
    setup = " && ".join([
        f"mkdir -p {base}/old-day/dags {base}/new-day {outside}",
        f"echo old > {base}/old-day/dags/parse.log", f"echo old > {base}/old.log", f"echo old > {outside}/old.log",
        f"echo new > {base}/new-day/parse.log", f"echo new > {base}/new.log",
        f"ln -s {outside} {base}/outside-link",
        # files first: a file's creation touches its directory
        f"touch -d {ago} {base}/old-day/dags/parse.log {base}/old.log {outside}/old.log",
        f"touch -d {ago} {base}/old-day/dags {base}/old-day",
    ])
    made = as_airflow(main_host, ["/bin/sh", "-c", setup])
    assert made.rc == 0, made.stderr
    try:
        journal = run_job(main_host, "log-grooming")
        assert f"{dag_processor_dir}: deleted" in journal, journal
        for path in [f"{base}/old.log", f"{base}/old-day/dags/parse.log", f"{base}/old-day"]:
            assert not main_host.file(path).exists, f"{path} is still there"
        for path in [f"{base}/new.log", f"{base}/new-day/parse.log", f"{outside}/old.log"]:
            assert main_host.file(path).exists, f"{path} was deleted"
        assert main_host.file(f"{base}/outside-link").is_symlink
    finally:
        main_host.run(f"rm -rf {base} {outside}")


@pytest.mark.parametrize("name", AIRFLOW_HOSTS)
def test_journald_limits_are_in_effect(name):
    h = host(name)
    max_use = role_default("airflow_maintenance_journald_max_use")
    retention = role_default("airflow_maintenance_journald_max_retention")
    # the drop-in's values are the last word of journald's configuration
    config = h.check_output("systemd-analyze cat-config systemd/journald.conf")
    settings = re.findall(r"^\s*(SystemMaxUse|MaxRetentionSec)=(.*)$", config, re.M)
    assert [v for k, v in settings if k == "SystemMaxUse"][-1:] == [max_use], config
    assert [v for k, v in settings if k == "MaxRetentionSec"][-1:] == [retention], config
    # and the running journald applies them: its usage message at start reports the system journal's limit
    pid = h.check_output("systemctl show -P MainPID systemd-journald")
    out = h.check_output(f"journalctl -q -o json --no-pager MESSAGE_ID={JOURNAL_USAGE_ID} _PID={pid}")
    assert out, f"journald (PID {pid}) has logged no usage message since it started"
    usage = json.loads(out.splitlines()[-1])
    assert usage["JOURNAL_NAME"] == "System Journal", f"journald writes to {usage['JOURNAL_PATH']}: no system journal"
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    assert int(usage["MAX_USE"]) == int(max_use[:-1]) * units[max_use[-1]], usage["MESSAGE"]
    dropin_written = int(h.check_output(f"stat -c %Y {JOURNALD_DROPIN}"))
    started = int(h.check_output("date -d \"$(systemctl show -P ActiveEnterTimestamp systemd-journald)\" +%s"))
    assert started >= dropin_written, "journald has not been restarted since its limits were written"
