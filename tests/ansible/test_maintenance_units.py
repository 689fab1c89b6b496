"""The maintenance jobs of roles/airflow_maintenance, without a cluster.

Ansible renders the role's units, scripts and journald drop-in from its real defaults into a temporary
directory (Airflow's venv replaced by a fake `airflow` that records its arguments). Then: systemd-analyze
accepts the units, their schedules and every schedule or time span the role's checks accept; the log
grooming deletes what is old inside its directories and nothing else; the db clean script runs the Airflow
commands it should, with a cutoff computed at run time; when an Airflow venv of the lock's version is on this
machine, Airflow's own CLI parser accepts every command the jobs run. Last, the role's tasks converge on this
machine against a stand-in for systemctl: a second run changes nothing, and a disabled job, or every job on a
VM that is not the main VM, has its units stopped and removed.
"""
import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kitlib import paths, testing

ROLES = paths.ANSIBLE_DIR / "roles"
ROLE = ROLES / "airflow_maintenance"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.fixture
def needs_systemd_analyze():
    if SYSTEMD_ANALYZE is None:
        testing.missing("systemd-analyze is not installed here")
DAY = 86400

# Records each call as a JSON list of its arguments; fails the subcommand named in FAKE_AIRFLOW_FAIL.
FAKE_AIRFLOW = textwrap.dedent("""\
    #!/usr/bin/env python3
    import json, os, sys
    with open(os.environ["FAKE_AIRFLOW_LOG"], "a") as log:
        log.write(json.dumps(sys.argv[1:]) + "\\n")
    sys.exit(1 if " ".join(sys.argv[1:3]) == os.environ.get("FAKE_AIRFLOW_FAIL") else 0)
""")

RENDER_PLAYBOOK = """
- name: Render the maintenance units, scripts and journald drop-in as the role does
  hosts: airflow_main
  gather_facts: false
  vars_files:
    - {roles}/airflow_base/defaults/main.yml
    - {roles}/airflow_base/vars/main.yml
    - {role}/defaults/main.yml
    - {role}/vars/main.yml
  tasks:
    - name: Services
      ansible.builtin.template:
        src: "{{{{ airflow_maintenance_template_dir }}}}/airflow-maintenance.service.j2"
        dest: "{out}/units/airflow-maintenance-{{{{ airflow_maintenance_job.name }}}}.service"
        mode: "0644"
      loop: "{{{{ airflow_maintenance_host_jobs }}}}"
      loop_control:
        loop_var: airflow_maintenance_job
    - name: Timers
      ansible.builtin.template:
        src: "{{{{ airflow_maintenance_template_dir }}}}/airflow-maintenance.timer.j2"
        dest: "{out}/units/airflow-maintenance-{{{{ airflow_maintenance_job.name }}}}.timer"
        mode: "0644"
      loop: "{{{{ airflow_maintenance_host_jobs }}}}"
      loop_control:
        loop_var: airflow_maintenance_job
    - name: Scripts
      ansible.builtin.template:
        src: "{role}/templates/{{{{ item.template }}}}"
        dest: "{{{{ airflow_maintenance_script_dir }}}}/{{{{ item.name }}}}"
        mode: "0755"
      loop: "{{{{ airflow_maintenance_host_scripts }}}}"
    - name: Journald drop-in
      ansible.builtin.template:
        src: "{role}/templates/journald.conf.j2"
        dest: "{out}/journald.conf"
        mode: "0644"
    - name: What the checks accept, and the jobs
      ansible.builtin.copy:
        content: "{{{{ {{'calendar_re': airflow_maintenance_calendar_re, 'timespan_re': airflow_maintenance_timespan_re,
                       'jobs': airflow_maintenance_host_jobs}} | to_json }}}}"
        dest: "{out}/facts.json"
        mode: "0644"
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("maintenance")
    for sub in ("units", "scripts", "venv/bin"):
        (out / sub).mkdir(parents=True)
    fake = out / "venv" / "bin" / "airflow"
    fake.write_text(FAKE_AIRFLOW)
    fake.chmod(0o755)
    (out / "inventory.yml").write_text(json.dumps({"all": {"children": {
        "airflow_main": {"hosts": {"localhost": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": sys.executable}}},
        "airflow_workers": {"hosts": {"localhost": {}}}}}}))
    (out / "render.yml").write_text(RENDER_PLAYBOOK.format(roles=ROLES, role=ROLE, out=out))
    extra = {"airflow_cluster_name": "unit", "airflow_venv_dir": str(out / "venv"),
             "airflow_maintenance_script_dir": str(out / "scripts"),
             "airflow_maintenance_template_dir": str(paths.REPO / "templates" / "systemd")}
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(out / "ansible-tmp"),
               ANSIBLE_ROLES_PATH=str(ROLES))
    result = subprocess.run(["ansible-playbook", "-i", str(out / "inventory.yml"), str(out / "render.yml"),
                             "-e", json.dumps(extra)], cwd=paths.ANSIBLE_DIR, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def facts(rendered) -> dict:
    return json.loads((rendered / "facts.json").read_text())


def unit_value(text: str, key: str) -> str:
    found = re.findall(rf"^{key}=(.*)$", text, re.M)
    assert len(found) == 1, f"{key}= appears {len(found)} times"
    return found[0]


def exec_start(rendered, job: str) -> list:
    return shlex.split(unit_value((rendered / "units" / f"airflow-maintenance-{job}.service").read_text(), "ExecStart"))


def test_every_default_job_gets_a_service_and_a_timer(rendered):
    jobs = [job["name"] for job in facts(rendered)["jobs"]]
    assert jobs == ["db-clean", "log-grooming", "log-shipping", "state-store-clean"]
    assert sorted(p.name for p in (rendered / "units").iterdir()) == sorted(
        f"airflow-maintenance-{job}.{kind}" for job in jobs for kind in ("service", "timer"))
    for job in jobs:
        service = (rendered / "units" / f"airflow-maintenance-{job}.service").read_text()
        for key, value in [("Type", "oneshot"), ("User", "airflow"), ("Group", "airflow"),
                           ("EnvironmentFile", "/etc/airflow/airflow.env"), ("WorkingDirectory", "/opt/airflow"),
                           ("Nice", "19"), ("IOSchedulingClass", "idle")]:
            assert unit_value(service, key) == value, (job, key)
        assert int(unit_value(service, "TimeoutStartSec")) >= 60
        assert "[Install]" not in service, "a maintenance service must only start from its timer"
        timer = (rendered / "units" / f"airflow-maintenance-{job}.timer").read_text()
        assert unit_value(timer, "Persistent") == "true"
        assert int(unit_value(timer, "RandomizedDelaySec")) > 0
        assert unit_value(timer, "WantedBy") == "timers.target"


def test_state_store_job_runs_airflows_own_cleanup(rendered):
    assert exec_start(rendered, "state-store-clean")[1:] == ["state-store", "clean"]


@pytest.mark.usefixtures("needs_systemd_analyze")
def test_systemd_accepts_the_units(rendered):
    units = sorted(str(p) for p in (rendered / "units").iterdir())
    result = subprocess.run([SYSTEMD_ANALYZE, "verify", *units], capture_output=True, text=True, timeout=120)
    # verify exits 0 on some errors (a bad value is ignored with a warning): any output is a failure
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


@pytest.mark.usefixtures("needs_systemd_analyze")
def test_systemd_accepts_the_schedules_and_journald_retention(rendered):
    for timer in (rendered / "units").glob("*.timer"):
        schedule = unit_value(timer.read_text(), "OnCalendar")
        assert subprocess.run([SYSTEMD_ANALYZE, "calendar", schedule], capture_output=True).returncode == 0, schedule
    retention = unit_value((rendered / "journald.conf").read_text(), "MaxRetentionSec")
    assert subprocess.run([SYSTEMD_ANALYZE, "timespan", retention], capture_output=True).returncode == 0
    assert re.fullmatch(r"[1-9][0-9]*[KMGT]", unit_value((rendered / "journald.conf").read_text(), "SystemMaxUse"))


CALENDAR_SAMPLES = [
    "daily", "weekly", "hourly", "monthly", "daily UTC", "*-*-* 03:15:00", "*-*-* 03:15", "03:15", "3:05:09",
    "Sun *-*-* 04:00:00", "Mon..Fri 02:30", "Sat,Sun 01:00 UTC", "Mon..Wed,Fri *-*-* 22:00:00", "*-*-01 03:00:00",
    "*-*-1..7 00:00", "*-01,07-01 00:00:00", "2030-*-* 00:00", "*:0/15", "*-*-* *:00/15:00", "*-*-* 03:15:00 Europe/Berlin",
    "*-*-* 03:15:00 America/Argentina/Buenos_Aires", "*-*-*",
    # not accepted by the checks (and most not by systemd either)
    "at 3am", "*-*-* 25:00", "Mon 24:00", "*-*-* 03:60:00", "*-13-01 00:00", "*-*-32 00:00", "Monday 03:00", "",
    "daily; rm -rf /", "*-*-* 03:15:00\nExecStart=/bin/sh", "daily %h", "$HOME", "Mon", "03:15 -- x",
]


@pytest.mark.usefixtures("needs_systemd_analyze")
def test_every_schedule_the_checks_accept_is_valid_for_systemd(rendered):
    pattern = re.compile(facts(rendered)["calendar_re"])
    accepted = [s for s in CALENDAR_SAMPLES if pattern.match(s)]
    assert accepted == CALENDAR_SAMPLES[:CALENDAR_SAMPLES.index("at 3am")]
    for schedule in accepted:
        result = subprocess.run([SYSTEMD_ANALYZE, "calendar", schedule], capture_output=True, text=True)
        assert result.returncode == 0, f"checks accept {schedule!r}, systemd does not: {result.stderr}"


@pytest.mark.usefixtures("needs_systemd_analyze")
def test_every_retention_the_checks_accept_is_valid_for_systemd(rendered):
    pattern = re.compile(facts(rendered)["timespan_re"])
    samples = ["0", "1month", "2months", "4week", "30d", "12h", "90min", "3600s", "1y",
               "1 month", "forever", "1G", "-1d", "1month;", "30"]
    accepted = [s for s in samples if pattern.match(s)]
    assert accepted == samples[:9]
    for span in accepted:
        assert subprocess.run([SYSTEMD_ANALYZE, "timespan", span], capture_output=True).returncode == 0, span


# --- log grooming -------------------------------------------------------------------------------------------

def age(path: Path, days: float):
    stamp = time.time() - days * DAY
    os.utime(path, (stamp, stamp), follow_symlinks=False)


def groom(rendered, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(rendered / "scripts" / "groom-logs"), *args], capture_output=True, text=True, timeout=60)


def test_log_grooming_deletes_old_files_and_emptied_directories_only_inside(rendered, tmp_path):
    logs = tmp_path / "logs" / "dag_processor"
    outside = tmp_path / "outside"
    outside.mkdir(parents=True)
    (outside / "old.log").write_text("x")
    age(outside / "old.log", 40)
    gone, kept = [], []
    for rel, days in [("old.log", 40), ("odd name\nwith a line break.log", 40), ("2025-01-01/dags/a.log", 40),
                      ("2025-02-01/dags/b.log", 40)]:
        (logs / rel).parent.mkdir(parents=True, exist_ok=True)
        (logs / rel).write_text("x")
        gone.append(logs / rel)
    for rel in ["new.log", "2025-02-01/dags/c.log", "10-days.log"]:
        (logs / rel).write_text("x")
        kept.append(logs / rel)
    age(logs / "10-days.log", 10)
    (logs / "today").mkdir()  # empty and new: Airflow may be about to write into it
    (logs / "old-empty").mkdir()
    (logs / "latest").symlink_to("2025-01-01")
    (logs / "outside-link").symlink_to(outside)
    for path in gone + [logs / "latest", logs / "outside-link"]:
        age(path, 40)
    for folder in ["old-empty", "2025-01-01/dags", "2025-01-01", "2025-02-01/dags", "2025-02-01"]:
        age(logs / folder, 40)

    result = groom(rendered, "--days", "14", str(logs))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{logs}: deleted 4 files and 3 empty directories older than 14 days" in result.stdout
    assert not any(p.exists() for p in gone)
    assert all(p.exists() for p in kept)
    assert not (logs / "old-empty").exists() and not (logs / "2025-01-01").exists()
    assert (logs / "today").is_dir() and (logs / "2025-02-01" / "dags").is_dir()
    # symlinks are neither followed nor deleted
    assert (logs / "latest").is_symlink() and (logs / "outside-link").is_symlink()
    assert (outside / "old.log").exists()
    assert logs.is_dir()


def test_log_grooming_skips_a_directory_that_is_a_symlink(rendered, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "old.log").write_text("x")
    age(real / "old.log", 40)
    (tmp_path / "link").symlink_to(real)
    result = groom(rendered, "--days", "14", str(tmp_path / "link"), str(tmp_path / "missing"))
    assert result.returncode == 0, result.stderr
    assert (real / "old.log").exists()
    assert result.stdout.count("skipped") == 2


@pytest.mark.parametrize("args", [[], ["--days", "14"], ["--days", "0", "/x"], ["--days", "x", "/x"],
                                  ["--days", "14", "relative/dir"], ["14", "/x", "/y"]])
def test_log_grooming_rejects_bad_arguments(rendered, args):
    assert groom(rendered, *args).returncode == 2


def test_log_grooming_unit_runs_the_script_with_its_directories(rendered):
    argv = exec_start(rendered, "log-grooming")
    assert argv[0] == str(rendered / "scripts" / "groom-logs")
    assert argv[1:] == ["--days", "14", "/opt/airflow/logs/dag_processor"]
    # the unit's exact command line is one the script takes (that directory does not exist here: skipped)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "skipped" in result.stdout, result.stdout + result.stderr


# --- db clean -----------------------------------------------------------------------------------------------

def db_clean(rendered, tmp_path, *args, fail: str = "") -> tuple:
    log = tmp_path / "airflow-calls.jsonl"
    log.unlink(missing_ok=True)
    log.touch()
    env = dict(os.environ, FAKE_AIRFLOW_LOG=str(log), FAKE_AIRFLOW_FAIL=fail)
    result = subprocess.run([str(rendered / "scripts" / "db-clean"), *args], capture_output=True, text=True,
                            env=env, timeout=60)
    return result, [json.loads(line) for line in log.read_text().splitlines()]


def cutoff_of(call: list) -> datetime.datetime:
    return datetime.datetime.fromisoformat(call[call.index("--clean-before-timestamp") + 1])


def assert_cutoff(call: list, days: int):
    expected = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    assert abs((cutoff_of(call) - expected).total_seconds()) < 120, call


def test_db_clean_unit_purges_with_skip_archive_by_default(rendered, tmp_path):
    argv = exec_start(rendered, "db-clean")
    assert argv[1:] == ["--retention-days", "30", "--archive", "skip", "--export-dir", "/opt/airflow/db-archive"]
    result, calls = db_clean(rendered, tmp_path, *argv[1:])
    assert result.returncode == 0, result.stderr
    assert len(calls) == 1
    assert_cutoff(calls[0], 30)
    assert calls[0][:2] == ["db", "clean"] and set(calls[0][4:]) == {"--skip-archive", "--error-on-cleanup-failure", "--yes"}


def test_db_clean_export_archives_then_exports_and_drops_them(rendered, tmp_path):
    result, calls = db_clean(rendered, tmp_path, "--retention-days", "7", "--archive", "export", "--export-dir", "/srv/x")
    assert result.returncode == 0, result.stderr
    assert [c[:2] for c in calls] == [["db", "clean"], ["db", "export-archived"]]
    assert_cutoff(calls[0], 7)
    assert "--skip-archive" not in calls[0] and {"--error-on-cleanup-failure", "--yes"} <= set(calls[0])
    assert calls[1][2:] == ["--export-format", "csv", "--output-path", "/srv/x", "--drop-archives", "--yes"]


def test_db_clean_export_still_exports_when_a_table_failed_and_fails_the_job(rendered, tmp_path):
    result, calls = db_clean(rendered, tmp_path, "--retention-days", "7", "--archive", "export", "--export-dir", "/srv/x",
                             fail="db clean")
    assert result.returncode == 1
    assert [c[:2] for c in calls] == [["db", "clean"], ["db", "export-archived"]]


def test_db_clean_failure_fails_the_job(rendered, tmp_path):
    result, _ = db_clean(rendered, tmp_path, "--retention-days", "7", "--archive", "skip", fail="db clean")
    assert result.returncode == 1


def test_db_clean_dry_run_changes_nothing(rendered, tmp_path):
    result, calls = db_clean(rendered, tmp_path, "--retention-days", "30", "--archive", "export", "--export-dir", "/srv/x",
                             "--dry-run")
    assert result.returncode == 0, result.stderr
    assert len(calls) == 1 and calls[0][:2] == ["db", "clean"] and calls[0][4:] == ["--dry-run"]
    assert_cutoff(calls[0], 30)


@pytest.mark.parametrize("args", [[], ["--retention-days", "0", "--archive", "skip"],
                                  ["--retention-days", "30"], ["--retention-days", "x", "--archive", "skip"],
                                  ["--retention-days", "30", "--archive", "keep"],
                                  ["--retention-days", "30", "--archive", "export"],
                                  ["--retention-days", "30", "--archive", "export", "--export-dir", "rel"],
                                  ["--retention-days", "30", "--archive", "skip", "--yes"]])
def test_db_clean_rejects_bad_arguments_and_runs_nothing(rendered, tmp_path, args):
    result, calls = db_clean(rendered, tmp_path, *args)
    assert result.returncode == 2 and calls == []


# --- Airflow's CLI takes every command the jobs run -------------------------------------------------------------

def airflow_venv() -> Path | None:
    """A finished Airflow venv on this machine with the lock's apache-airflow-core (scripts/airflow-venv.sh
    builds one for the DAG tests), if there is one."""
    pin = re.search(r"^apache-airflow-core==(\S+)$", paths.AIRFLOW_LOCK.read_text(), re.M).group(1)
    for venv in sorted((paths.CACHE / "venvs").glob("airflow-*")):
        if (venv / ".complete").exists() and list(venv.glob(f"lib/python3*/site-packages/apache_airflow_core-{pin}.dist-info")):
            return venv
    return None


PARSE_ALL = """
import json, sys
from airflow.cli import cli_parser
parser = cli_parser.get_parser()
for argv in json.load(sys.stdin):
    args = parser.parse_args(argv)
    print(args.func.__name__ if hasattr(args.func, "__name__") else args.func)
"""


def test_airflow_cli_accepts_every_command_the_jobs_run(rendered, tmp_path):
    venv = airflow_venv()
    if venv is None:
        testing.missing("no Airflow venv of the lock's version on this machine (scripts/airflow-venv.sh builds one)")
    commands = []
    # the CLI checks that the export directory exists (the role creates it)
    for args in (["--retention-days", "30", "--archive", "skip"],
                 ["--retention-days", "30", "--archive", "export", "--export-dir", str(tmp_path)],
                 ["--retention-days", "30", "--archive", "skip", "--dry-run"]):
        result, calls = db_clean(rendered, tmp_path, *args)
        assert result.returncode == 0, result.stderr
        commands += calls
    commands.append(exec_start(rendered, "state-store-clean")[1:])
    env = dict(os.environ, AIRFLOW_HOME=str(tmp_path / "airflow-home"), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    result = subprocess.run([str(venv / "bin" / "python"), "-c", PARSE_ALL], input=json.dumps(commands),
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(result.stdout.split()) == len(commands) == 5, result.stdout


# --- the role's tasks, converged on this machine with a stand-in for systemctl ----------------------------------

# Units are the files in SIM_UNIT_DIR (and systemd-journald); enabled/active state and every call go to SIM_STATE.
FAKE_SYSTEMCTL = textwrap.dedent("""\
    #!/usr/bin/env python3
    import json, os, sys
    path, unit_dir = os.environ["SIM_STATE"], os.environ["SIM_UNIT_DIR"]
    state = json.load(open(path)) if os.path.exists(path) else {"enabled": [], "active": [], "calls": []}
    args = [a.strip("'") for a in sys.argv[1:] if not a.startswith("-")]
    state["calls"].append(" ".join(args))
    command, unit = args[0], (args[1] if len(args) > 1 else "")
    known = unit.startswith("systemd-journald") or os.path.exists(os.path.join(unit_dir, unit))
    rc = 0
    if command == "show":
        print(f"Id={unit}\\nLoadState={'loaded' if known else 'not-found'}\\n"
              f"ActiveState={'active' if unit in state['active'] else 'inactive'}")
    elif command == "is-enabled":
        print("enabled" if unit in state["enabled"] else "disabled")
        rc = 0 if unit in state["enabled"] else 1
    elif command == "is-active":
        print("active" if unit in state["active"] else "inactive")
        rc = 0 if unit in state["active"] else 3
    elif command in ("enable", "start", "restart") and not known:
        rc = 5
    elif command in ("enable", "disable"):
        state["enabled"] = sorted((set(state["enabled"]) | {unit}) if command == "enable" else set(state["enabled"]) - {unit})
    elif command in ("start", "restart", "stop"):
        state["active"] = sorted((set(state["active"]) | {unit}) if command != "stop" else set(state["active"]) - {unit})
    elif command != "daemon-reload":
        rc = 1
    json.dump(state, open(path, "w"))
    sys.exit(rc)
""")

CONVERGE_PLAYBOOK = """
- name: Converge roles/airflow_maintenance
  hosts: localhost
  gather_facts: false
  roles:
    - role: airflow_maintenance
"""


def converge(sim: Path, as_: str, extra: dict | None = None) -> tuple:
    """site.yml's airflow_maintenance on localhost as an all-in-one main VM ("main"), a worker VM ("worker") or
    an Airflow VM that is neither (an Edge host: "edge"); (changed count, state)."""
    interpreter = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    groups = {"airflow_main": {"hosts": {"localhost" if as_ == "main" else "ghost-main": {}}},
              "airflow_workers": {"hosts": {"localhost" if as_ in ("main", "worker") else "ghost-worker": {}}}}
    if as_ == "edge":
        groups["airflow_edge_workers"] = {"hosts": {"localhost": {}}}
    groups = {"all": {"hosts": {"localhost": interpreter}, "children": groups}}
    (sim / "inventory.yml").write_text(json.dumps(groups))
    root = sim / "root"
    variables = {"airflow_cluster_name": "sim", "airflow_user": "root", "airflow_group": "root",
                 "airflow_maintenance_unit_dir": str(root / "units"), "airflow_maintenance_script_dir": str(root / "scripts"),
                 "airflow_maintenance_journald_dropin": str(root / "journald.conf.d" / "90-airflow-gcp-kit.conf"),
                 "airflow_maintenance_db_clean_export_dir": str(root / "db-archive"),
                 "airflow_maintenance_template_dir": str(paths.REPO / "templates" / "systemd"), **(extra or {})}
    env = dict(os.environ, PATH=f"{sim / 'bin'}:{os.environ['PATH']}", SIM_STATE=str(sim / "state.json"),
               SIM_UNIT_DIR=str(root / "units"), ANSIBLE_ROLES_PATH=str(ROLES), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(sim / "ansible-tmp"))
    result = subprocess.run(["ansible-playbook", "-i", str(sim / "inventory.yml"), str(sim / "converge.yml"),
                             "-e", json.dumps(variables)], cwd=paths.ANSIBLE_DIR, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    changed = int(re.search(r"localhost\s+:.*changed=(\d+)", result.stdout).group(1))
    return changed, json.loads((sim / "state.json").read_text())


def test_role_converges_idempotently_and_removes_what_a_host_no_longer_runs(tmp_path):
    sim = tmp_path
    (sim / "bin").mkdir()
    (sim / "bin" / "systemctl").write_text(FAKE_SYSTEMCTL)
    (sim / "bin" / "systemctl").chmod(0o755)
    (sim / "converge.yml").write_text(CONVERGE_PLAYBOOK)
    (sim / "root" / "units").mkdir(parents=True)
    units = sim / "root" / "units"
    jobs = ("db-clean", "log-grooming", "log-shipping", "state-store-clean")
    timers = [f"airflow-maintenance-{job}.timer" for job in jobs]
    # log-shipping starts with every Celery worker instance
    dropin = units / "airflow-worker@.service.d" / "airflow-maintenance-log-shipping.conf"

    changed, state = converge(sim, "main")
    assert changed > 0
    assert sorted(p.name for p in units.iterdir()) == sorted(
        timers + [t.replace(".timer", ".service") for t in timers] + [dropin.parent.name])
    assert "Wants=airflow-maintenance-log-shipping.service" in dropin.read_text().splitlines()
    assert state["enabled"] == timers and set(timers) <= set(state["active"])
    assert {"restart systemd-journald", "start systemd-journald"} & set(state["calls"]), "journald not restarted"
    assert sorted(p.name for p in (sim / "root" / "scripts").iterdir()) == ["db-clean", "groom-logs", "ship-logs"]
    assert all(os.access(p, os.X_OK) for p in (sim / "root" / "scripts").iterdir())
    assert "SystemMaxUse=1G" in (sim / "root" / "journald.conf.d" / "90-airflow-gcp-kit.conf").read_text()
    assert "RandomizedDelaySec=60" in (units / "airflow-maintenance-log-shipping.timer").read_text()
    assert "RandomizedDelaySec=900" in (units / "airflow-maintenance-db-clean.timer").read_text()

    changed, _ = converge(sim, "main")
    assert changed == 0, "a second run changed something"

    state_before = len(state["calls"])
    changed, state = converge(sim, "main", extra={
        "airflow_maintenance_db_clean_archive": "export",
        "airflow_maintenance_job_overrides": {"log-grooming": {"enabled": False},
                                              "db-clean": {"schedule": "Sun *-*-* 04:00:00"}}})
    assert not list(units.glob("airflow-maintenance-log-grooming.*"))
    assert "airflow-maintenance-log-grooming.timer" not in state["enabled"] + state["active"]
    assert "OnCalendar=Sun *-*-* 04:00:00" in (units / "airflow-maintenance-db-clean.timer").read_text()
    assert "restart airflow-maintenance-db-clean.timer" in state["calls"][state_before:]
    assert "--archive export" in (units / "airflow-maintenance-db-clean.service").read_text()
    assert oct((sim / "root" / "db-archive").stat().st_mode & 0o777) == "0o700"

    # a worker VM runs the log shipping only: the main VM's jobs and scripts an earlier run left are removed
    changed, state = converge(sim, "worker")
    shipping = ["airflow-maintenance-log-shipping.service", "airflow-maintenance-log-shipping.timer"]
    assert sorted(p.name for p in units.iterdir()) == sorted(shipping + [dropin.parent.name]) and dropin.is_file()
    assert [p.name for p in (sim / "root" / "scripts").iterdir()] == ["ship-logs"]
    assert state["enabled"] == shipping[1:]

    # a shipping job no longer wanted takes its drop-in along
    converge(sim, "worker", extra={"airflow_maintenance_job_overrides": {"log-shipping": {"started_with": []}}})
    assert not dropin.exists()

    # an Airflow VM that is neither (an Edge host) runs no job: everything is stopped and removed
    changed, state = converge(sim, "edge")
    assert [p for p in units.rglob("*") if p.is_file()] == [] and not (sim / "root" / "scripts").exists()
    assert state["enabled"] == [] and state["active"] == ["systemd-journald"]
