"""The redeploy's decisions (kitlib.redeploy, called by scripts/deploy/deploy.sh): which route a plan takes,
and what the report says. Plans are shaped like ansible/redeploy-plan.yml writes them (one entry per VM, as
scripts/deploy/vm-redeploy.sh --plan reports). No cluster needed."""
import json
import subprocess
import sys

import pytest

from kitlib import redeploy

OLD, NEW, OLDER = "a" * 40, "b" * 40, "c" * 40


def vm(previous, dags_changed=True, converge=False, paths=()):
    return {"previous": previous, "target": NEW, "changed": False, "dags_changed": dags_changed,
            "converge": converge, "converge_paths": list(paths)}


def plan(**hosts):
    return {name.replace("_", "-"): host for name, host in hosts.items()}


# What ansible-playbook site.yml prints when handlers restart services (trimmed from a real converge).
SITE_LOG = """
PLAY [Airflow on every Airflow VM] *********************************************
TASK [airflow_install : Write the configuration (airflow.cfg, the environment file, TLS; the main VM's secrets)] ***
changed: [agk-worker1]
RUNNING HANDLER [airflow_services : Restart the Celery workers, one at a time] *
changed: [agk-worker1]
RUNNING HANDLER [airflow_services : Restart the Celery workers, one at a time] *
changed: [agk-worker2]
RUNNING HANDLER [airflow_services : Restart the main-VM daemons] ***************
changed: [agk-main]
RUNNING HANDLER [airflow_services : Reload systemd] ****************************
ok: [agk-main]

PLAY RECAP *********************************************************************
agk-main                   : ok=80   changed=2    unreachable=0    failed=0    skipped=9    rescued=0    ignored=0
agk-worker1                : ok=61   changed=3    unreachable=0    failed=0    skipped=7    rescued=0    ignored=0
agk-worker2                : ok=61   changed=0    unreachable=0    failed=0    skipped=7    rescued=0    ignored=0
"""


@pytest.mark.parametrize("hosts, expected", [
    # every VM serves the commit already: nothing to do, whatever else its plan says
    (plan(agk_main=vm(NEW, converge=True, paths=["ansible/site.yml"]), agk_worker1=vm(NEW)), "unchanged"),
    # only DAG files differ
    (plan(agk_main=vm(OLD), agk_worker1=vm(OLD), agk_worker2=vm(OLD)), "dags"),
    # a commit that changes nothing a VM uses is still moved to (the DAG folder points at its release)
    (plan(agk_main=vm(OLD, dags_changed=False), agk_worker1=vm(OLD, dags_changed=False)), "dags"),
    # one VM's step touches config: the whole cluster converges
    (plan(agk_main=vm(OLD), agk_worker1=vm(OLD, converge=True, paths=["templates/airflow.cfg.j2"])), "converge"),
    # a VM with no release yet (previous null) converges
    (plan(agk_main=vm(OLD), agk_worker3=vm(None, converge=True)), "converge"),
    # VMs at different commits: the one already at NEW does not count, the others' steps do
    (plan(agk_main=vm(NEW, converge=True, paths=["ansible/site.yml"]), agk_worker1=vm(OLDER)), "dags"),
])
def test_route(hosts, expected):
    assert redeploy.route(hosts, NEW) == expected


def test_each_route_names_its_playbook():
    assert redeploy.PLAYBOOKS == {"unchanged": None, "dags": "redeploy.yml", "converge": "site.yml"}


def test_converge_report_lists_restarts_and_changed_tasks():
    hosts = plan(agk_main=vm(OLD, converge=True, paths=["ansible/inventories/local/group_vars/all.yml"]),
                 agk_worker1=vm(OLD, converge=True, paths=["ansible/inventories/local/group_vars/all.yml"]),
                 agk_worker2=vm(NEW))
    rep = redeploy.report(hosts, NEW, "converge", SITE_LOG, seconds=206)
    assert rep["commit"] == NEW and rep["route"] == "converge" and rep["playbook"] == "site.yml"
    assert rep["changed"] is True and rep["seconds"] == 206
    # each handler once, sorted; a handler that restarts nothing (Reload systemd) is not a restart
    assert rep["restarted"] == ["Restart the Celery workers, one at a time", "Restart the main-VM daemons"]
    assert list(rep["hosts"]) == ["agk-main", "agk-worker1", "agk-worker2"]
    assert rep["hosts"]["agk-worker1"] == {"previous": OLD, "dags_changed": True, "changed_tasks": 3,
                                           "converge_paths": ["ansible/inventories/local/group_vars/all.yml"]}
    # a VM already at the commit reports no DAG change, even if its plan compared older commits
    assert rep["hosts"]["agk-worker2"]["dags_changed"] is False
    assert redeploy.summary(rep) == (f"{NEW[:12]}: site.yml converged; restarted: Restart the Celery workers, "
                                     "one at a time, Restart the main-VM daemons (206 s)")


def test_unchanged_report_says_nothing_happened():
    rep = redeploy.report(plan(agk_main=vm(NEW), agk_worker1=vm(NEW)), NEW, "unchanged", "", seconds=14)
    assert rep["changed"] is False and rep["playbook"] is None and rep["restarted"] == []
    assert all(h["changed_tasks"] == 0 and h["dags_changed"] is False for h in rep["hosts"].values())
    assert "nothing changed, nothing restarted" in redeploy.summary(rep)


def test_dags_report_restarts_nothing():
    log = "PLAY RECAP ***\nagk-main                   : ok=12   changed=2    unreachable=0    failed=0\n"
    rep = redeploy.report(plan(agk_main=vm(OLD)), NEW, "dags", log, seconds=20)
    assert rep["playbook"] == "redeploy.yml" and rep["restarted"] == []
    assert rep["hosts"]["agk-main"]["changed_tasks"] == 2
    assert "no service restarted" in redeploy.summary(rep)


def test_cli_as_deploy_sh_calls_it(tmp_path):
    """deploy.sh reads "ROUTE PLAYBOOK" from `route` and prints `report`'s JSON last (also to --out)."""
    plan_file, log_file, out = tmp_path / "plan.json", tmp_path / "apply.log", tmp_path / "report.json"
    plan_file.write_text(json.dumps(plan(agk_main=vm(OLD, converge=True, paths=["plugins/x.py"]))))
    log_file.write_text(SITE_LOG)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "kitlib.redeploy", *map(str, args)],
                              capture_output=True, text=True, check=True)

    assert cli("route", plan_file, NEW).stdout == "converge site.yml\n"
    plan_file.write_text(json.dumps(plan(agk_main=vm(NEW))))
    assert cli("route", plan_file, NEW).stdout == "unchanged -\n"

    plan_file.write_text(json.dumps(plan(agk_main=vm(OLD, converge=True, paths=["plugins/x.py"]))))
    result = cli("report", plan_file, NEW, "converge", "--apply-log", log_file, "--seconds", 7, "--out", out)
    last = json.loads(result.stdout.splitlines()[-1])
    assert last == json.loads(out.read_text())
    assert last["route"] == "converge" and last["hosts"]["agk-main"]["changed_tasks"] == 2
    assert result.stderr.startswith(f"[deploy] {NEW[:12]}: site.yml converged")
    # the dags and unchanged routes have no playbook output
    result = cli("report", plan_file, NEW, "unchanged", "--apply-log", tmp_path / "missing.log")
    assert json.loads(result.stdout)["restarted"] == []
