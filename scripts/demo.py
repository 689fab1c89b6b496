#!/usr/bin/env python3
"""`make demo`: the whole local cluster from nothing, then a real DAG run on both workers.

Phases: Docker "VMs" of ansible/inventories/local/hosts.yml (image built once), wheelhouse (built once), the
very same `ansible-playbook site.yml` as on GCP but against inventories/local, then the example DAG
triggered through the REST API. Re-running reuses what exists. `--down` (make demo-down) removes the VMs,
their network and the local cluster's secrets.
"""
import argparse
import collections
import json
import shutil
import sys

from kitlib import nas_pipeline, paths, playbook, testbed
from kitlib.airflow_api import AirflowApi
from kitlib.shell import Phases

CLUSTER_NAME = "local"
DAG_ID = "example_etl_pipeline"
CONSUMER_DAG_ID = "example_asset_consumer"  # scheduled on the Asset the pipeline updates


def ansible_playbook(*extra: str) -> None:
    playbook.site("inventories/local", CLUSTER_NAME, *extra, capture=False, color=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-dag-run", action="store_true")
    parser.add_argument("--down", action="store_true", help="remove the VMs, their network and the secrets")
    args = parser.parse_args()

    bed = testbed.load(paths.LOCAL_INVENTORY)
    if args.down:
        testbed.down(bed)
        # The DB they protected is gone with its VM; a new cluster gets new secrets.
        shutil.rmtree(paths.SECRETS_ROOT / CLUSTER_NAME, ignore_errors=True)
        print(json.dumps(testbed.status(bed), indent=2))
        return 0

    phases = Phases()
    with phases.phase("VM image and wheelhouse (built once, side by side)"):
        image, wheels = testbed.ensure_image_and_wheels()
    with phases.phase("start local VMs"):
        testbed.up(bed, image, wheels)
    with phases.phase("ansible-playbook site.yml -i inventories/local"):
        ansible_playbook()

    base_url = bed.url("airflow_api_port")
    summary = {}
    if not args.skip_dag_run:
        with phases.phase(f"trigger {DAG_ID} and wait for success"):
            api = AirflowApi.for_cluster(bed, CLUSTER_NAME)
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
        if bed.group("airflow_edge_workers"):
            with phases.phase("NAS pipeline: producer (Celery + Edge) -> Asset -> consumer"):
                nas = nas_pipeline.run(api)
            print(json.dumps(nas, indent=2))
            if nas.get("consumer", {}).get("state") != "success":
                print(f"NAS pipeline failed: {nas}", file=sys.stderr)
                return 1
            summary["nas"] = nas

    print(f"""
Local Airflow {CLUSTER_NAME!r} cluster is up.
  UI / REST API : {base_url}   (user admin)
  admin password: make admin-password   (stored in {paths.SECRETS_ROOT / CLUSTER_NAME}/admin_password, mode 0600)
  Flower        : {bed.url("airflow_flower_port")}   (user admin, make flower-password)
  CA certificate: {paths.SECRETS_ROOT / CLUSTER_NAME}/ca.pem   (both serve HTTPS only; trust this CA in your
                  browser, or: curl --cacert {paths.SECRETS_ROOT / CLUSTER_NAME}/ca.pem {base_url}/api/v2/version)
  VMs           : {', '.join(bed.names())}   (docker exec -it {bed.group("airflow_main")[0]} bash)
  Prometheus    : {bed.url("prometheus_local_port") if bed.group("prometheus_local") else "none"}   (Airflow's metrics, the alert rules)
  tear down     : make demo-down
""")
    if summary:
        print(f"Example DAG run {summary['run_id']}: {summary['state']}, "
              f"{summary['tasks']} tasks, per host: {summary['tasks_per_host']}")
    if "nas" in summary:
        nas = summary["nas"]
        print(f"NAS pipeline: {nas_pipeline.PRODUCER} tasks ran on {nas['producer']['hosts']}, wrote "
              f"{nas['written']['path']}; {nas_pipeline.CONSUMER} (started by the Asset event) read it on "
              f"{nas['consumer']['hosts']['parse']}: {nas['read']['content'].strip()!r}")
    print("Phase timings:\n" + phases.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
