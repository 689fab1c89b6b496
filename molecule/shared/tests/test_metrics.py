"""Airflow's metrics reach a real metrics backend, and the cluster's alert rules work on them.

The scenario's Prometheus (roles/prometheus_local, standing in for Cloud Monitoring) scrapes each Airflow VM's
StatsD bridge and Flower, as the Ops Agent does on GCP, and evaluates the rules of
terraform/modules/monitoring/alert_rules.yaml whose series exist here. Every check reads Prometheus's API: the
series must have travelled Airflow -> StatsD -> bridge -> scrape -> query. Layouts without a Prometheus VM
(all_in_one) skip this file.
"""
import pytest
import yaml

from conftest import BED, DAG_ID, host, hosts_of
from kitlib import paths
from kitlib.prometheus import Prometheus

pytestmark = pytest.mark.skipif(not BED.group("prometheus_local"), reason="this layout has no Prometheus VM")

AIRFLOW_VMS = sorted(set(hosts_of("airflow_main") + hosts_of("airflow_workers")))
RULES_FILE = paths.REPO / "terraform" / "modules" / "monitoring" / "alert_rules.yaml"


@pytest.fixture(scope="module")
def prom():
    return Prometheus.for_testbed(BED)


def test_every_vm_and_flower_are_scraped(prom):
    def all_up():
        up = {(labels["job"], labels["instance_name"]): value for labels, value in prom.query('up{instance_name!=""}')}
        wanted = {("airflow", vm) for vm in AIRFLOW_VMS} | {("flower", hosts_of("airflow_main")[0])}
        return wanted <= {key for key, value in up.items() if value == 1} and up
    up = prom.wait_for(all_up, "every StatsD bridge and Flower scraped", timeout=90)
    print(f"targets up: {sorted(k for k, v in up.items() if v == 1)}")


def test_local_rules_are_the_files_airflow_rules(prom):
    # $$ is a dollar sign in the file (Terraform's templatefile escape); YAML ignores the comments holding it.
    rules = yaml.safe_load(RULES_FILE.read_text().replace("$$", "$"))["rules"]
    expected = {rule["name"] for rule in rules if rule["scope"] == "airflow"}
    assert expected, "alert_rules.yaml has no rule of scope airflow"
    loaded = prom.rules()
    assert set(loaded) == expected
    # The placeholders were filled in: every expression names this cluster's VMs and no placeholder is left.
    for name, rule in loaded.items():
        assert "${" not in rule["query"], f"{name}: unfilled placeholder in {rule['query']}"
        assert rule["health"] == "ok", f"{name}: {rule}"


def test_scheduler_heartbeats_arrive(prom):
    main = hosts_of("airflow_main")[0]
    rate = prom.wait_for(
        lambda: prom.value(f'sum(increase(airflow_scheduler_heartbeat_total{{instance_name="{main}"}}[1m]))', 0),
        "scheduler heartbeats in the last minute", timeout=90)
    print(f"scheduler heartbeats in the last minute: {rate:.0f}")


def test_executor_slots_arrive(prom):
    main = hosts_of("airflow_main")[0]
    parallelism = int(host(main).check_output(
        "/usr/local/bin/airflow config get-value core parallelism").strip().splitlines()[-1])

    executors = ["CeleryExecutor", "EdgeExecutor"] if hosts_of("airflow_edge_workers") else [""]

    def slots():
        # The scheduler reports each executor's slots every loop (the executor label names it when there are
        # several); for each, open + queued + running is the parallelism.
        values = {}
        for labels, value in prom.query(f'{{__name__=~"airflow_executor_(open_slots|queued_tasks|running_tasks)",'
                                        f'instance_name="{main}"}}'):
            values.setdefault(labels.get("executor", ""), {})[labels["__name__"]] = value
        return values if sorted(values) == executors and all(len(v) == 3 for v in values.values()) else None
    values = prom.wait_for(slots, f"the open, queued and running slots of {executors}", timeout=90)
    for executor, series in values.items():
        assert sum(series.values()) == parallelism, f"{executor}: {series} do not add up to parallelism {parallelism}"
    print(f"executor: {values}")


def test_task_counts_arrive(api, prom):
    finished = f'sum(airflow_ti_finish_total{{dag_id="{DAG_ID}",state="success"}})'
    before = prom.value(finished, 0)
    run_id = api.trigger(DAG_ID, conf={"sources": ["oslo"], "rows": 10})
    assert api.wait_run(DAG_ID, run_id, timeout=300) == "success"
    tasks = len(api.task_instances(DAG_ID, run_id))
    # Each task's own process sends ti.finish to its worker VM's bridge, which the next scrape reads.
    after = prom.wait_for(lambda: (v := prom.value(finished, 0)) >= before + tasks and v,
                          f"{tasks} more successful {DAG_ID} tasks counted", timeout=60)
    per_vm = {labels["instance_name"]: value for labels, value in prom.query(
        f'sum by (instance_name) (airflow_ti_finish_total{{dag_id="{DAG_ID}",state="success"}})')}
    assert set(per_vm) <= set(hosts_of("airflow_workers")), per_vm
    print(f"successful {DAG_ID} tasks counted: {before:.0f} -> {after:.0f} (run of {tasks}); per VM {per_vm}")


def test_flower_sees_every_worker_online(prom, worker_instances_by_host):
    instances = sum(worker_instances_by_host.values())
    online = prom.wait_for(lambda: (v := prom.value("sum(flower_worker_online)", 0)) == instances and v,
                           f"{instances} Celery workers online in Flower's metrics", timeout=90)
    print(f"Celery workers online: {online:.0f}")


def test_scheduler_alert_fires_and_resolves(prom, main_host):
    """Stop the scheduler: the scheduler_heartbeat_missing rule fires; start it: the alert resolves."""
    prom.wait_for(lambda: "scheduler_heartbeat_missing" not in prom.firing(),
                  "no scheduler alert while the scheduler runs", timeout=90)
    main_host.check_output("systemctl stop airflow-scheduler")
    try:
        prom.wait_for(lambda: "scheduler_heartbeat_missing" in prom.firing(),
                      "scheduler_heartbeat_missing firing after the scheduler stopped", timeout=150)
    finally:
        main_host.check_output("systemctl start airflow-scheduler")
    prom.wait_for(lambda: "scheduler_heartbeat_missing" not in prom.firing(),
                  "scheduler_heartbeat_missing resolved after the scheduler started", timeout=150)
