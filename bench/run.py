#!/usr/bin/env python3
"""Benchmarks of the local cluster (`make bench`); results go to bench/results.md and the README.

It runs on its own cluster: the demo's layout (ansible/inventories/local/hosts.yml) under the prefix agkb,
with loopback ports of its own (BENCH_PORTS) and without the git server, Prometheus and the Edge worker (DAGs
are copied from the control machine, as in Molecule), so a running demo is not disturbed.
1. cold start: from no VMs at all to a successful example DAG run, with the VM image and the wheelhouse
   already cached, and how busy the machine's cores were during its site.yml; before it, what a fresh machine
   builds first (the tooling venv, then the image and the wheelhouse side by side), timed in a scratch cache:
   their sum is the time from nothing (Docker itself taken as installed);
2. idempotent re-run of `ansible-playbook site.yml` on the running cluster (must report changed=0);
3. a DAG of 100 trivial tasks: wall time from trigger to success, and the run's own start->end time
   (median of FANOUT_RUNS runs), alternating with the same runs on the bare-process reference (bench/
   bare_reference.py: the same lock configured by hand on one more VM, no systemd, TLS or metrics), each side
   frozen while the other runs, and the ratio of the two medians; then one more run while the DB VM counts each
   component's connections;
4. what Redis TLS costs: the same DAG after converging with airflow_redis_tls=false (plain Redis), again
   FANOUT_RUNS runs, on the same cluster;
5. the VMs' venv on disk, and the memory of the main VM's services when idle (systemd's MemoryCurrent);
6. one more worker VM joining: `site.yml --limit` that VM alone, from a fresh container to converged.
"""
import argparse
import collections
import contextlib
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

from kitlib import paths, testbed
from kitlib.airflow_api import AirflowApi
from kitlib.shell import run

from bare_reference import BareReference

REPO = paths.REPO
BIN = Path(sys.prefix) / "bin"  # the control venv's tools (ansible-playbook), run by its python
BENCH_PORTS = {"airflow_api_port": 18180, "airflow_flower_port": 15555}
BARE_API_PORT = 18280
FANOUT_RUNS = 3
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


def host_cpu() -> tuple[int, int]:
    """(busy, all) jiffies of this machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq + steal, sum(fields)


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> int:
    return round(100 * (after[0] - before[0]) / max(1, after[1] - before[1]))


def from_nothing_builds() -> dict:
    """What a fresh machine builds before its first VM starts, timed in a scratch cache with an empty pip cache:
    the tooling venv (scripts/bootstrap.sh), then the VM image and the wheelhouse side by side, as `make demo`
    does. Docker and debootstrap count as installed (the bench needs them). The scratch copies are removed."""
    scratch = Path(tempfile.mkdtemp(prefix="agkb-fresh-"))
    repo = "agkb-fresh/debian12-systemd"
    env = dict(os.environ, AGK_CACHE=str(scratch), PIP_CACHE_DIR=str(scratch / "pip"), AGK_IMAGE_REPO=repo)
    try:
        venv_took, out = timed(["bash", str(REPO / "scripts" / "bootstrap.sh")], env=env, cwd=REPO)
        python = Path(out.strip().splitlines()[-1]) / "bin" / "python"
        builds_took, _ = timed([str(python), "-c", "from kitlib import testbed; testbed.ensure_image_and_wheels()"],
                               env=env, cwd=REPO)
    finally:
        subprocess.run(f"docker images -q {repo} | xargs -r docker rmi -f", shell=True, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return {"tooling venv": round(venv_took, 1), "VM image and wheelhouse, side by side": round(builds_took, 1)}


def recap_changed(output: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", output))


def playbook(inventory: str, env: dict, *extra: str) -> tuple[float, str]:
    # every task's time in the recap (ansible.cfg's profile_tasks), not only the slowest 20
    return timed([str(BIN / "ansible-playbook"), "-i", inventory, "site.yml", *extra],
                 cwd=paths.ANSIBLE_DIR, env=dict(env, PROFILE_TASKS_TASK_OUTPUT_LIMIT="all"))


def time_by_role(output: str, top: int = 8) -> dict:
    """The playbook's task times (profile_tasks' recap) summed by role, the largest first; tasks outside a role
    count as "(plays)"."""
    recap = output.split("TASKS RECAP", 1)[-1]
    by_role = collections.Counter()
    for name, seconds in re.findall(r"^(.*?) -+ ([0-9.]+)s$", recap, re.M):
        by_role[name.split(" : ", 1)[0] if " : " in name else "(plays)"] += float(seconds)
    shown = {role: round(t, 1) for role, t in by_role.most_common(top)}
    shown["rest"] = round(sum(by_role.values()) - sum(shown.values()), 1)
    return shown


def run_example(api: AirflowApi) -> str:
    for dag_id in ("example_etl_pipeline", "example_asset_consumer"):
        api.enable(dag_id)
    run_id = api.trigger("example_etl_pipeline", conf={"work_seconds": 2})
    return api.wait_run("example_etl_pipeline", run_id)


def fanout(api: AirflowApi) -> dict:
    """One run of bench_fanout_100: trigger-to-success wall time, the tasks' own span, state, tasks per host."""
    start = time.monotonic()
    run_id = api.trigger("bench_fanout_100", logical_date=None)
    state = api.wait_run("bench_fanout_100", run_id, timeout=900)
    wall = time.monotonic() - start
    tis = api.task_instances("bench_fanout_100", run_id)
    first = min(datetime.fromisoformat(t["start_date"].replace("Z", "+00:00")) for t in tis)
    last = max(datetime.fromisoformat(t["end_date"].replace("Z", "+00:00")) for t in tis)
    return {"wall": wall, "span": (last - first).total_seconds(), "state": state, "run_id": run_id,
            "started": start, "per_host": dict(collections.Counter(t["hostname"] for t in tis))}


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def task_profile(api: AirflowApi, run: dict, worker_durations: list) -> dict:
    """Where a trivial task's time goes, as medians over the run's 100 tasks (ms): the scheduler queueing it,
    then from queued to running (the broker, the worker taking it, the supervisor starting the task process,
    which parses the DAG file and tells the execution API it runs), then running to done (the task itself and
    its execution API calls: XCom, state); and the Celery worker's own time per task (from receiving it to
    its end, the log upload included), from the workers' logs."""
    tis = api.task_instances("bench_fanout_100", run["run_id"])
    dag_run = api.get(f"/api/v2/dags/bench_fanout_100/dagRuns/{run['run_id']}")

    def med(values):
        values = sorted(values)
        return round(values[len(values) // 2] * 1000) if values else None

    spans = {
        "run start -> task queued": [(stamp(t["queued_when"]) - stamp(dag_run["start_date"])).total_seconds()
                                     for t in tis if t.get("queued_when")],
        "queued -> running": [(stamp(t["start_date"]) - stamp(t["queued_when"])).total_seconds()
                              for t in tis if t.get("queued_when") and t.get("start_date")],
        "running -> done": [(stamp(t["end_date"]) - stamp(t["start_date"])).total_seconds()
                            for t in tis if t.get("start_date") and t.get("end_date")],
        "Celery worker: received -> finished": worker_durations,
    }
    return {name: med(values) for name, values in spans.items()}


def celery_durations(log_text: str) -> list:
    """Celery's "Task ...execute_workload[...] succeeded in 1.23s" lines: seconds per task."""
    return [float(x) for x in re.findall(r"execute_workload\[[^]]+\] succeeded in ([0-9.]+)s", log_text)]


def fanout_runs(api: AirflowApi) -> tuple[list[dict], dict]:
    """FANOUT_RUNS runs and the median one (by wall time)."""
    runs = sorted((fanout(api) for _ in range(FANOUT_RUNS)), key=lambda r: r["wall"])
    return runs, runs[len(runs) // 2]


def median(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]


@contextlib.contextmanager
def frozen(vms: list):
    """Every process of these VMs but their init stopped (SIGSTOP) meanwhile: it uses no CPU and answers nothing.
    `docker pause` would do it with the cgroup freezer, which this machine's Docker cannot use ("unable to
    freeze"); systemd, left running, has nothing to do while its services are stopped for a run's length."""
    for vm in vms:
        # bash's kill: util-linux's takes -1 for a signal, not for "every process"
        run(["docker", "exec", vm, "bash", "-c", "kill -STOP -1"], capture=True)
    try:
        yield
    finally:
        for vm in vms:
            subprocess.run(["docker", "exec", vm, "bash", "-c", "kill -CONT -1"], capture_output=True)


def fanout_against_reference(api: AirflowApi, bare: BareReference, kit_vms: list,
                             shared_vms: list) -> tuple[list, list]:
    """FANOUT_RUNS runs on the kit's cluster and as many on the bare reference, alternating, after one warm-up
    run each (not counted: the first run of a fresh worker pays its imports). While one side runs, the other's
    Airflow VMs are frozen, so neither takes CPU from the other."""
    bare_api = bare.api()
    bare_api.login()
    bare_api.enable("bench_fanout_100")
    kit, ref = [], []
    for n in range(FANOUT_RUNS + 1):
        with frozen([bare.name]):
            result = fanout_with_cpu(api, kit_vms + shared_vms)
        if n:
            kit.append(result)
        with frozen(kit_vms):
            result = fanout_with_cpu(bare_api, [bare.name] + shared_vms)
        if n:
            ref.append(result)
    return kit, ref


def fanout_with_cpu(api: AirflowApi, vms: list) -> dict:
    """One fanout run, with the CPU its side's VMs used meanwhile (result["cpu"])."""
    before = cpu_snapshot(vms)
    result = fanout(api)
    result["cpu"] = cpu_used(before, cpu_snapshot(vms))
    return result


# Run with the VM's own python3: the CPU time each session on the VM has used so far, by the command of its leader.
# systemd starts every service in a session of its own, and the bare reference starts each process with setsid,
# so a session is one daemon with all its children (a task process is reaped by its worker, whose children's
# time then holds it).
CPU_BY_SESSION = r"""
import json, os
hz = os.sysconf("SC_CLK_TCK")
sessions, leaders = {}, {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
        fields = stat.rsplit(")", 1)[1].split()
        sid = fields[3]
        sessions[sid] = sessions.get(sid, 0) + sum(int(x) for x in fields[11:15]) / hz
        if sid == pid:
            argv = open(f"/proc/{pid}/cmdline").read().replace(chr(0), " ")
            leaders[sid] = " ".join(os.path.basename(word) for word in argv.split()[:4])
    except OSError:
        pass
totals = {}
for sid, seconds in sessions.items():
    label = leaders.get(sid, "other")
    totals[label] = totals.get(label, 0) + seconds
print(json.dumps(totals))
"""


# A session leader's command (setproctitle may have rewritten it) -> the component it is.
COMPONENTS = [(r"celery(d| worker)", "Celery worker"), (r"scheduler", "scheduler"), (r"api.server", "API server"),
              (r"dag.processor|DagFileProcessor", "DAG processor"), (r"triggerer", "triggerer"), (r"flower", "Flower"),
              (r"redis", "Redis"), (r"postgres", "PostgreSQL"), (r"statsd", "StatsD exporter"),
              (r"gcs|404", "GCS emulator"), (r"journald", "journald")]


def cpu_snapshot(names: list) -> dict:
    """{vm: {session leader: CPU seconds so far}} for each VM."""
    return {name: json.loads(run(["docker", "exec", "-i", name, "python3", "-"], input=CPU_BY_SESSION,
                                 capture=True).stdout) for name in names}


def cpu_used(before: dict, after: dict, tasks: int = 100) -> dict:
    """CPU seconds per component between two snapshots (components under 0.5 s folded into "rest"), and the total
    per task in ms."""
    used = collections.Counter()
    for vm, now in after.items():
        role = vm.rsplit("-", 1)[-1].rstrip("0123456789")
        for label, seconds in now.items():
            name = next((name for pattern, name in COMPONENTS if re.search(pattern, label)), label.split(" ")[0])
            used[f"{role}: {name}"] += seconds - before.get(vm, {}).get(label, 0)
    total = sum(used.values())
    shown = {k: round(v, 1) for k, v in used.most_common() if v >= 0.5}
    shown["rest"] = round(total - sum(shown.values()), 1)
    return {"CPU s per component": shown, "CPU ms per task, all VMs": round(total * 1000 / tasks)}


def kit_worker_log(bed, since: float) -> str:
    """The Celery workers' journal on every worker VM since a time (Unix seconds)."""
    return "\n".join(vm_output(name, f"journalctl -q -o cat --since @{int(since)} -u 'airflow-worker@*'")
                     for name in bed.group("airflow_workers"))


def vm_output(name: str, command: str) -> str:
    return run(["docker", "exec", name, "sh", "-c", command], capture=True).stdout.strip()


def venv_megabytes(name: str) -> str:
    """The Airflow venv on one VM: on disk, and the sum of its files' sizes."""
    venv = "/opt/airflow/venv"
    disk = vm_output(name, f"du -sm {venv}").split()[0]
    apparent = vm_output(name, f"du -sm --apparent-size {venv}").split()[0]
    return f"{disk} on disk ({apparent} of file contents)"


def main_memory(name: str) -> tuple[int, dict]:
    """MemoryCurrent of each Airflow and Redis unit on the main VM, in MB, and their sum."""
    units = vm_output(name, "systemctl list-units --type=service --state=running --plain --no-legend "
                            "'airflow-*' 'redis-server*' | awk '{print $1}'").split()
    per_unit = {}
    for unit in units:
        value = vm_output(name, f"systemctl show -p MemoryCurrent --value {unit}")
        per_unit[unit.removesuffix(".service")] = round(int(value) / 2**20) if value.isdigit() else 0
    return sum(per_unit.values()), per_unit


def db_connections_during(api: AirflowApi, db_vm: str, database: str) -> dict:
    """One more fanout run while the DB VM samples pg_stat_activity every second (in one `docker exec`, so the
    sampling costs a psql per second and no docker call): the peak number of connections per component
    (application_name, set by the kit's connect arguments) and of all of them together."""
    query = (f"select coalesce(nullif(application_name, ''), '(unnamed)'), count(*) from pg_stat_activity "
             f"where datname = '{database}' and backend_type = 'client backend' group by 1")
    sampler = subprocess.Popen(
        ["docker", "exec", db_vm, "sh", "-c",
         f"while :; do runuser -u postgres -- psql -qAtF ' ' -c \"{query}\"; echo --; sleep 1; done"],
        stdout=subprocess.PIPE, text=True)
    try:
        fanout(api)
    finally:
        sampler.terminate()
    peak, total = collections.Counter(), 0
    for sample in sampler.communicate()[0].split("--"):
        counts = {name: int(n) for name, n in (line.rsplit(" ", 1) for line in sample.split("\n") if line.strip())}
        total = max(total, sum(counts.values()))
        for name, n in counts.items():
            peak[name] = max(peak[name], n)
    return {"total": total, **dict(sorted(peak.items()))}


def bed_value(name: str, default=None):
    """A variable of the local inventory's group_vars/all.yml, or the role default."""
    import yaml
    values = yaml.safe_load((paths.LOCAL_INVENTORY.parent / "group_vars" / "all.yml").read_text()) or {}
    if name in values:
        return values[name]
    try:
        return testbed.role_default(name)
    except KeyError:
        return default


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="leave the benchmark cluster running")
    args = parser.parse_args()
    bed = testbed.load(paths.LOCAL_INVENTORY).derive(
        "agkb", BENCH_PORTS,
        empty_groups=["git_remote_local", "prometheus_local", "airflow_edge_workers", "vpc_egress_local"])
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", AGK_CLUSTER_NAME="bench",
               ANSIBLE_NOCOLOR="1")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        inventory = str(bed.write(Path(tmp) / "inventory"))
        dags = Path(tmp) / "dags"
        dags.mkdir()
        for src in list((REPO / "dags").glob("*.py")) + list((REPO / "bench" / "dags").glob("*.py")):
            shutil.copy(src, dags)
        dag_vars = ["-e", json.dumps({"airflow_dags_source_dir": f"{dags}/"})]

        workers = bed.group("airflow_workers")
        concurrency = int(bed_value("airflow_worker_concurrency"))
        bare = BareReference(bed, "bench", BARE_API_PORT, workers=len(workers) * int(bed_value("airflow_worker_instances", 1)),
                             concurrency=concurrency,
                             dag_files=sorted(dags.glob("*.py")))

        # 1. cold: nothing running -> a successful example DAG run (image and wheelhouse cached)
        bare.down()  # a reference VM an interrupted run left would hold the network
        testbed.down(bed)
        shutil.rmtree(paths.SECRETS_ROOT / "bench", ignore_errors=True)
        builds = from_nothing_builds()
        image, wheels = testbed.ensure_image_and_wheels()
        start = time.monotonic()
        testbed.up(bed, image, wheels)
        vms_up = time.monotonic()
        cpu_before = host_cpu()
        converge, out = playbook(inventory, env, *dag_vars)
        converge_busy = busy_percent(cpu_before, host_cpu())
        api = AirflowApi.for_cluster(bed, "bench")
        api.wait_healthy()
        api.login()
        state = run_example(api)
        results["cold start to a successful DAG run (s)"] = round(time.monotonic() - start, 1)
        results["cold start phases (s)"] = {"start the VMs": round(vms_up - start, 1), "site.yml": round(converge, 1),
                                            "first DAG run": round(time.monotonic() - vms_up - converge, 1)}
        results["cold site.yml: task time by role (s)"] = time_by_role(out)
        results[f"cold site.yml: this machine's CPU busy (% of {os.cpu_count()} cores)"] = converge_busy
        results["from nothing: builds before the first VM, scratch cache and empty pip cache (s)"] = builds
        results["from nothing to a successful DAG run: those builds + the cold start (s)"] = round(
            sum(builds.values()) + results["cold start to a successful DAG run (s)"], 1)
        results["example DAG run"] = state

        # 2. idempotent re-run
        took, out = playbook(inventory, env, *dag_vars)
        results["idempotent re-run of site.yml (s)"] = round(took, 1)
        results["changed tasks on re-run"] = recap_changed(out)
        results["re-run: task time by role (s)"] = time_by_role(out)

        # 5. footprint: the venv, and the main VM's services idle (after a minute with nothing to run)
        results["VMs' venv (MB)"] = venv_megabytes(workers[0])
        time.sleep(60)
        total, per_unit = main_memory(bed.group("airflow_main")[0])
        results["main VM's Airflow + Redis services, idle: MemoryCurrent (MB)"] = total
        results["main VM's services, idle, per unit (MB)"] = per_unit

        # 3. 100 trivial tasks (Redis over TLS, the default), against the bare-process reference
        api.enable("bench_fanout_100")
        try:
            results["bare reference: install on one VM, by hand (s)"] = round(bare.install(image, wheels), 1)
            bare.start()
            kit_vms = bed.group("airflow_main") + workers
            shared_vms = bed.group("airflow_db_local") + bed.group("gcs_emulator")
            runs, ref_runs = fanout_against_reference(api, bare, kit_vms, shared_vms)
            ref_profile = task_profile(bare.api(), ref_runs[-1], celery_durations(bare.worker_logs()))
        finally:
            if not args.keep:
                bare.down()
        median_run, ref_median = median(runs), median(ref_runs)
        results[f"100 trivial tasks: trigger to success (s), median of {FANOUT_RUNS}"] = round(median_run["wall"], 1)
        results["100 trivial tasks: every run (s)"] = ", ".join(f"{r['wall']:.1f}" for r in runs)
        results["100 trivial tasks: first task start to last task end (s)"] = round(median_run["span"], 1)
        results["100 trivial tasks: per host"] = median_run["per_host"]
        results[f"bare reference, 100 trivial tasks: trigger to success (s), median of {FANOUT_RUNS}"] = \
            round(ref_median["wall"], 1)
        results["bare reference: every run (s)"] = ", ".join(f"{r['wall']:.1f}" for r in ref_runs)
        results["kit / bare reference (median to median)"] = round(median_run["wall"] / ref_median["wall"], 2)
        last, ref_last = runs[-1], ref_runs[-1]
        results["one trivial task, kit: where the time goes (ms, medians)"] = task_profile(
            api, last, celery_durations(kit_worker_log(bed, time.time() - (time.monotonic() - last["started"]) - 5)))
        results["one trivial task, bare reference: where the time goes (ms, medians)"] = ref_profile
        results["CPU during the median 100-task run, kit"] = median_run["cpu"]
        results["CPU during the median 100-task run, bare reference"] = ref_median["cpu"]
        tls_states = {r["state"] for r in runs + ref_runs}
        connections = db_connections_during(api, bed.group("airflow_db_local")[0], "airflow")
        results["metadata DB connections at peak during a 100-task run: all"] = connections.pop("total")
        results["metadata DB connections at peak, per component"] = connections

        # 4. the same with plain Redis: what TLS between the VMs and Redis costs
        playbook(inventory, env, *dag_vars, "-e", "airflow_redis_tls=false")
        api.wait_healthy()
        plain_runs, plain_median = fanout_runs(api)
        results[f"100 trivial tasks, Redis without TLS: trigger to success (s), median of {FANOUT_RUNS}"] = \
            round(plain_median["wall"], 1)
        results["100 trivial tasks, Redis without TLS: every run (s)"] = ", ".join(f"{r['wall']:.1f}" for r in plain_runs)
        state = "success" if tls_states | {r["state"] for r in plain_runs} == {"success"} else "failed"
        results["100 trivial tasks: state of every run"] = state

        # 6. one more worker VM joins the running cluster (back on TLS Redis, the default, first)
        playbook(inventory, env, *dag_vars)
        joining = bed.group("airflow_workers")[-1].rsplit("worker", 1)[0] + "worker3"
        joined = bed.with_host("airflow_workers", joining)
        joined_inventory = str(joined.write(Path(tmp) / "inventory-joined"))
        start = time.monotonic()
        testbed.up(joined, image, wheels)
        took, out = playbook(joined_inventory, env, *dag_vars, "--limit", joining)
        results["one more worker VM joined: container start + site.yml --limit that VM (s)"] = \
            round(time.monotonic() - start, 1)
        results["one more worker VM joined: site.yml alone (s)"] = round(took, 1)
        if not args.keep:
            testbed.down(joined)

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    server = run(["docker", "version", "-f", "{{.Server.Version}}"], capture=True).stdout.strip()
    load = os.getloadavg()[0]
    lines = [f"Measured {stamp} by `make bench` on {os.cpu_count()} cores ({platform.machine()}), Docker {server}; "
             f"cluster = main + 2 worker VMs (concurrency {concurrency} each) + PostgreSQL + GCS emulator; VM image and "
             f"wheelhouse already cached (their first build is timed below); load average at the end {load:.1f}.", "",
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
    ok = results["example DAG run"] == "success" and state == "success" and results["changed tasks on re-run"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
