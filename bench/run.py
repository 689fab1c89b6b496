#!/usr/bin/env python3
"""Benchmarks of the local cluster (`make bench`); results go to bench/results.md and the README.

1. cold start: from no VMs at all to a successful example DAG run (`make demo-down`, then the demo),
   with the VM image and the wheelhouse already cached (their one-time build is timed separately);
2. idempotent re-run of `ansible-playbook site.yml` on the running cluster (must report changed=0);
3. a DAG of 100 trivial tasks: wall time from trigger to success, and the run's own start->end time.
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from kitlib import docker_vms, paths  # noqa: E402
from kitlib.airflow_api import AirflowApi  # noqa: E402

RESULTS = REPO / "bench" / "results.md"
README = REPO / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def timed(cmd, **kwargs) -> tuple[float, str]:
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    took = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-5000:] + proc.stderr[-5000:])
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}")
    return took, proc.stdout


def recap_changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", required=True, type=Path)
    parser.add_argument("--skip-cold", action="store_true", help="reuse the running cluster")
    args = parser.parse_args()
    env = dict(os.environ, PATH=f"{args.venv / 'bin'}:{os.environ['PATH']}", AGK_CLUSTER_NAME="local",
               ANSIBLE_NOCOLOR="1")
    results = {}

    if not args.skip_cold:
        subprocess.run([sys.executable, str(REPO / "scripts" / "local_cluster.py"), "down"], check=True,
                       capture_output=True)
        took, _ = timed([str(args.venv / "bin" / "python"), str(REPO / "scripts" / "demo.py"),
                         "--venv", str(args.venv)], env=env)
        results["cold start to a successful DAG run (s)"] = round(took, 1)

    took, out = timed([str(args.venv / "bin" / "ansible-playbook"), "-i", "inventories/local", "site.yml"],
                      cwd=paths.ANSIBLE_DIR, env=env)
    results["idempotent re-run of site.yml (s)"] = round(took, 1)
    results["changed tasks on re-run"] = recap_changed(out)

    # Deploy the benchmark DAG next to the repository's DAGs, through the same role.
    with tempfile.TemporaryDirectory() as tmp:
        for src in list((REPO / "dags").glob("*.py")) + list((REPO / "bench" / "dags").glob("*.py")):
            shutil.copy(src, tmp)
        timed([str(args.venv / "bin" / "ansible-playbook"), "-i", "inventories/local", "site.yml", "--tags", "dags",
               "-e", json.dumps({"airflow_dags_source_dir": tmp + "/"})], cwd=paths.ANSIBLE_DIR, env=env)

    admin = (paths.SECRETS_ROOT / "local" / "admin_password").read_text().strip()
    api = AirflowApi("http://127.0.0.1:8080", "admin", admin)
    api.wait_healthy()
    api.login()
    api.wait_dag("bench_fanout_100")
    api.unpause("bench_fanout_100")
    start = time.monotonic()
    run_id = api.trigger("bench_fanout_100", logical_date=None)
    state = api.wait_run("bench_fanout_100", run_id, timeout=900)
    wall = time.monotonic() - start
    run = api.get(f"/api/v2/dags/bench_fanout_100/dagRuns/{run_id}")
    tis = api.task_instances("bench_fanout_100", run_id)
    started = min(datetime.fromisoformat(t["start_date"]) for t in tis)
    ended = max(datetime.fromisoformat(t["end_date"]) for t in tis)
    results["100 trivial tasks: trigger to success (s)"] = round(wall, 1)
    results["100 trivial tasks: first task start to last task end (s)"] = round((ended - started).total_seconds(), 1)
    results["100 trivial tasks: state"] = state
    results["100 trivial tasks: per host"] = dict(sorted(
        {h: sum(1 for t in tis if t["hostname"] == h) for h in {t["hostname"] for t in tis}}.items()))
    del run

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Docker {docker_vms.run(['docker', 'version', '-f', '{{.Server.Version}}'], capture=True).stdout.strip()}"
    lines = [f"Measured {stamp} on {machine}; local cluster = main + 2 worker VMs (concurrency 4 each) "
             "+ PostgreSQL + GCS emulator, VM image and wheelhouse already cached.", "",
             "| measurement | result |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in results.items()]
    table = "\n".join(lines) + "\n"
    RESULTS.write_text("# Benchmark results\n\nWritten by `make bench` (bench/run.py).\n\n" + table)
    if README.exists():
        text = README.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            README.write_text(f"{head}{BEGIN}\n{table}{END}{tail}")
    print(table)
    return 0 if state == "success" and results["changed tasks on re-run"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
