"""What a redeploy does, and what it reports: the decisions of scripts/deploy/deploy.sh.

deploy.sh runs ansible/redeploy-plan.yml, which writes one plan per Airflow VM (scripts/deploy/vm-redeploy.sh
--plan):  {"agk-main": {"previous": "<sha>|null", "target": "<sha>", "dags_changed": bool, "converge": bool,
"converge_paths": [...]}, ...}. From it:

- route():  unchanged  every VM serves the commit already: nothing runs
            dags       only DAG files differ: ansible/redeploy.yml swaps the DAG folders, nothing restarts
            converge   a VM's step touches ansible/, templates/, requirements/ or plugins/ (or it has no release
                       yet): ansible-playbook site.yml, whose handlers restart what changed
- report(): the JSON report deploy.sh prints last (and tests/deploy reads): route, playbook, the handlers that
            restarted services (from the playbook's output), changed tasks per host.

CLI (deploy.sh):  python -m kitlib.redeploy route PLAN SHA            -> "ROUTE PLAYBOOK" ("-" for none)
                  python -m kitlib.redeploy report PLAN SHA ROUTE [--apply-log F] [--seconds N] [--out F]
"""
import argparse
import json
import re
import sys
from pathlib import Path

PLAYBOOKS = {"unchanged": None, "dags": "redeploy.yml", "converge": "site.yml"}
SUMMARIES = {"unchanged": "already deployed everywhere: nothing changed, nothing restarted",
             "dags": "DAG files swapped, no service restarted",
             "converge": "site.yml converged; restarted: {restarted}"}
# A handler that ran, as ansible-playbook prints it: RUNNING HANDLER [role : Restart ...]
HANDLER = re.compile(r"RUNNING HANDLER \[[^\]]*: (Restart[^\]]*)\]")
RECAP = re.compile(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", re.M)


def route(plan: dict, sha: str) -> str:
    """unchanged, dags or converge (see the module doc). A VM already at sha needs nothing, whatever its
    plan says about earlier steps."""
    moving = [host for host in plan.values() if host["previous"] != sha]
    if not moving:
        return "unchanged"
    if any(host["converge"] for host in moving):
        return "converge"
    return "dags"


def restarted(apply_log: str) -> list:
    """The restart handlers that ran, once each, sorted."""
    return sorted(set(HANDLER.findall(apply_log)))


def changed_tasks(apply_log: str) -> dict:
    """Host -> changed count, from the PLAY RECAP."""
    return {host: int(n) for host, n in RECAP.findall(apply_log)}


def report(plan: dict, sha: str, route_: str, apply_log: str = "", seconds: int = 0) -> dict:
    restarts = restarted(apply_log)
    changed = changed_tasks(apply_log)
    return {
        "commit": sha,
        "route": route_,
        "playbook": PLAYBOOKS[route_],
        "changed": route_ != "unchanged",
        "restarted": restarts,
        "seconds": int(seconds),
        "hosts": {name: {"previous": host["previous"],
                         "dags_changed": host["dags_changed"] if host["previous"] != sha else False,
                         "converge_paths": host["converge_paths"],
                         "changed_tasks": changed.get(name, 0)}
                  for name, host in sorted(plan.items())},
    }


def summary(rep: dict) -> str:
    text = SUMMARIES[rep["route"]].format(restarted=", ".join(rep["restarted"]) or "nothing")
    return f"{rep['commit'][:12]}: {text} ({rep['seconds']} s)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kitlib.redeploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("route", "report"):
        cmd = sub.add_parser(name)
        cmd.add_argument("plan", type=Path, help="the plan file ansible/redeploy-plan.yml wrote")
        cmd.add_argument("sha")
        if name == "report":
            cmd.add_argument("route", choices=sorted(PLAYBOOKS))
            cmd.add_argument("--apply-log", type=Path, help="output of the route's ansible-playbook, if any")
            cmd.add_argument("--seconds", type=int, default=0)
            cmd.add_argument("--out", type=Path, help="also write the JSON report to this file")
    args = parser.parse_args(argv)
    plan = json.loads(args.plan.read_text())
    if args.command == "route":
        chosen = route(plan, args.sha)
        print(chosen, PLAYBOOKS[chosen] or "-")
        return 0
    log = args.apply_log.read_text() if args.apply_log and args.apply_log.exists() else ""
    rep = report(plan, args.sha, args.route, log, args.seconds)
    print(f"[deploy] {summary(rep)}", file=sys.stderr)
    text = json.dumps(rep)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
