#!/usr/bin/env python3
"""`make demo`: the whole local cluster from nothing, then a real DAG run on both workers.

Phases: Docker "VMs" (image built once), wheelhouse (built once), the very same
`ansible-playbook site.yml` as on GCP but against inventories/local, then the example DAG triggered
through the REST API. Re-running reuses what exists; `make demo-down` removes it all.
"""
import argparse
import collections
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kitlib import docker_vms, paths, wheelhouse  # noqa: E402
from kitlib.airflow_api import AirflowApi  # noqa: E402
from kitlib.shell import Phases, run  # noqa: E402

CLUSTER_NAME = "local"
DAG_ID = "example_etl_pipeline"
CONSUMER_DAG_ID = "example_asset_consumer"  # scheduled on the Asset the pipeline updates


def ansible_playbook(venv: Path, *extra: str) -> None:
    env = dict(os.environ, AGK_CLUSTER_NAME=CLUSTER_NAME, ANSIBLE_FORCE_COLOR="1",
               PATH=f"{venv / 'bin'}:{os.environ['PATH']}")
    run([str(venv / "bin" / "ansible-playbook"), "-i", "inventories/local", "site.yml", *extra],
        cwd=paths.ANSIBLE_DIR, env=env)


def secret(name: str) -> str:
    return (paths.SECRETS_ROOT / CLUSTER_NAME / name).read_text().strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", required=True, type=Path, help="tooling venv (scripts/bootstrap.sh)")
    parser.add_argument("--ui-port", type=int, default=int(os.environ.get("AGK_UI_PORT", "8080")))
    parser.add_argument("--flower-port", type=int, default=int(os.environ.get("AGK_FLOWER_PORT", "5555")))
    parser.add_argument("--skip-dag-run", action="store_true")
    args = parser.parse_args()

    phases = Phases()
    cluster = docker_vms.local_cluster(args.ui_port, args.flower_port)
    with phases.phase("VM image (debootstrap, built once)"):
        image = docker_vms.ensure_image()
    with phases.phase("wheelhouse (built once)"):
        wheels = wheelhouse.ensure()
    with phases.phase("start local VMs"):
        docker_vms.up(cluster, image, wheels)
    with phases.phase("ansible-playbook site.yml -i inventories/local"):
        ansible_playbook(args.venv)

    base_url = f"http://127.0.0.1:{args.ui_port}"
    summary = {}
    if not args.skip_dag_run:
        with phases.phase(f"trigger {DAG_ID} and wait for success"):
            api = AirflowApi(base_url, "admin", secret("admin_password"))
            api.wait_healthy()
            api.login()
            for dag_id in (DAG_ID, CONSUMER_DAG_ID):
                api.enable(dag_id)
            run_id = api.trigger(DAG_ID, conf={"work_seconds": 2})
            state = api.wait_run(DAG_ID, run_id)
            tis = api.task_instances(DAG_ID, run_id)
            by_host = collections.Counter(ti["hostname"] for ti in tis)
            summary = {"run_id": run_id, "state": state, "tasks": len(tis), "tasks_per_host": dict(by_host)}
        print(json.dumps(summary, indent=2))
        if summary["state"] != "success":
            print(f"DAG run failed: {summary}", file=sys.stderr)
            return 1

    print(f"""
Local Airflow {CLUSTER_NAME!r} cluster is up.
  UI / REST API : {base_url}   (user admin)
  admin password: make admin-password   (stored in {paths.SECRETS_ROOT / CLUSTER_NAME}/admin_password, mode 0600)
  Flower        : http://127.0.0.1:{args.flower_port}   (user admin, make flower-password)
  VMs           : {', '.join(cluster.names())}   (docker exec -it agk-main bash)
  tear down     : make demo-down
""")
    if summary:
        print(f"Example DAG run {summary['run_id']}: {summary['state']}, "
              f"{summary['tasks']} tasks, per host: {summary['tasks_per_host']}")
    print("Phase timings:\n" + phases.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
