"""The StatsD bridge (ansible/roles/airflow_metrics/files/airflow_statsd_exporter.py), run as the VMs run it:
a process receiving UDP and serving /metrics, fed by Airflow's own StatsD logger with the settings the kit
renders ([metrics] statsd_influxdb_enabled, tags), read back with prometheus_client's parser.

Runs in the Airflow venv (the lock), like tests/dags: the bridge's only dependency is prometheus_client from it.
"""
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
EXPORTER = REPO / "ansible" / "roles" / "airflow_metrics" / "files" / "airflow_statsd_exporter.py"
sys.path.insert(0, str(EXPORTER.parent))
import airflow_statsd_exporter as bridge  # noqa: E402


def free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def running():
    """A bridge process on free ports: (statsd port, /metrics URL)."""
    udp, web = free_port(socket.SOCK_DGRAM), free_port()
    proc = subprocess.Popen([sys.executable, str(EXPORTER), "--statsd", f"127.0.0.1:{udp}",
                             "--web", f"127.0.0.1:{web}", "--max-series", "1000"])
    url = f"http://127.0.0.1:{web}/metrics"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(url, timeout=2).raise_for_status()
            break
        except requests.RequestException:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.1)
    yield udp, url
    proc.terminate()
    proc.wait(timeout=10)


def scrape(url: str) -> dict:
    """(sample name, frozenset of labels) -> value."""
    text = requests.get(url, timeout=5).text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def wait_for(url: str, key, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples = scrape(url)
        if key in samples:
            return samples
        time.sleep(0.1)
    raise AssertionError(f"{key} not served; have {sorted(scrape(url))[:40]}")


def airflow_stats(port: int):
    """Airflow's StatsD logger, configured as airflow.cfg's [metrics] from the kit configures it."""
    os.environ.update({
        "AIRFLOW__METRICS__STATSD_ON": "True", "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(port), "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
        "AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED": "True", "AIRFLOW__METRICS__LEGACY_NAMES_ON": "False",
    })
    from airflow.observability.metrics.statsd_logger import get_statsd_logger
    return get_statsd_logger()


def test_airflows_own_metrics_come_out_as_prometheus_series(running):
    port, url = running
    stats = airflow_stats(port)
    stats.incr("scheduler_heartbeat", 1, 1)
    stats.incr("scheduler_heartbeat", 1, 1)
    stats.incr("ti.finish", tags={"dag_id": "etl", "task_id": "load", "state": "success"})
    stats.gauge("executor.open_slots", 30, tags={"executor_class_name": "CeleryExecutor"})
    stats.gauge("executor.open_slots", -2, delta=True, tags={"executor_class_name": "CeleryExecutor"})
    stats.timing("dag_processing.last_duration", timedelta(seconds=1.5), tags={"file_name": "etl"})
    samples = wait_for(url, ("airflow_dag_processing_last_duration_seconds_count",
                             frozenset({"file_name": "etl"}.items())))
    assert samples[("airflow_scheduler_heartbeat_total", frozenset())] == 2
    assert samples[("airflow_ti_finish_total",
                    frozenset({"dag_id": "etl", "task_id": "load", "state": "success"}.items()))] == 1
    assert samples[("airflow_executor_open_slots", frozenset({"executor_class_name": "CeleryExecutor"}.items()))] == 28
    etl = frozenset({"file_name": "etl"}.items())
    # StatsD carries milliseconds ("1500|ms"); the bridge serves seconds.
    total = samples[("airflow_dag_processing_last_duration_seconds_sum", etl)]
    assert 1.4 < total < 1.6, total
    assert samples[("airflow_dag_processing_last_duration_seconds_bucket", etl | {("le", "5.0")})] == 1
    assert samples[("airflow_dag_processing_last_duration_seconds_bucket", etl | {("le", "1.0")})] == 0


def test_bad_datagrams_are_counted_not_fatal(running):
    port, url = running
    junk = [b"no colon", b"x:1", b"x:1|zz", b"x:abc|c", b"x:inf|g", b"x,bad-tag:1|c", b"x,__n=1:1|c",
            b"x:1|c|@2", b"\xff\xfe:1|c", b"ok.after.junk:3|c"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for datagram in junk:
            s.sendto(datagram, ("127.0.0.1", port))
    samples = wait_for(url, ("ok_after_junk_total", frozenset()))
    assert samples[("ok_after_junk_total", frozenset())] == 3
    assert samples[("statsd_exporter_lines_rejected_total", frozenset())] == 8
    # "\xff\xfe" decodes with replacement characters, which become "_" in the name: accepted, not fatal.
    assert samples[("statsd_exporter_lines_total", frozenset())] == 10


def test_series_are_bounded():
    store = bridge.Store(max_series=3)
    for i in range(5):
        store.add(f"airflow.ti.start,task_id=t{i}:1|c")
    store.add("airflow.ti.start,task_id=t0:1|c")  # an existing series still counts
    assert store.dropped == 2
    families = {m.name: m for m in store.collect()}
    assert len(families["airflow_ti_start"].samples) == 3
    assert {s.value for s in families["airflow_ti_start"].samples if s.labels.get("task_id") == "t0"} == {2}


def test_a_name_keeps_its_first_kind():
    store = bridge.Store()
    store.add("airflow.pool.open_slots:5|g")
    store.add("airflow.pool.open_slots:1|c")
    assert store.rejected == 1
    assert [m.type for m in store.collect() if m.name == "airflow_pool_open_slots"] == ["gauge"]


@pytest.mark.parametrize("line, parsed", [
    ("a.b:1|c", ("a_b", (), 1.0, "c", 1.0)),
    ("a.b:2|c|@0.5", ("a_b", (), 2.0, "c", 0.5)),
    ("a,z=1,y=2:+3|g", ("a", (("y", "2"), ("z", "1")), 3.0, "g+", 1.0)),
    ("a:-3|g", ("a", (), -3.0, "g+", 1.0)),
    ("9lives:250|ms", ("_9lives", (), 250.0, "ms", 1.0)),
    # each executor's slots, with Celery and Edge both configured: one series name, the class as a label
    ("airflow.executor.open_slots.CeleryExecutor:30|g",
     ("airflow_executor_open_slots", (("executor", "CeleryExecutor"),), 30.0, "g", 1.0)),
    ("airflow.executor.queued_tasks.EdgeExecutor:0|g",
     ("airflow_executor_queued_tasks", (("executor", "EdgeExecutor"),), 0.0, "g", 1.0)),
    ("airflow.executor.open_slots:32|g", ("airflow_executor_open_slots", (), 32.0, "g", 1.0)),
])
def test_parse_line(line, parsed):
    assert bridge.parse_line(line) == parsed
