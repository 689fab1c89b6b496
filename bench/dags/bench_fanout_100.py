"""Benchmark: 100 independent trivial tasks, to measure scheduling + Celery throughput of the cluster."""
from __future__ import annotations

import pendulum

from airflow.sdk import dag, task


@dag(
    dag_id="bench_fanout_100",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_tasks=64,
    tags=["bench"],
    doc_md=__doc__,
)
def bench_fanout_100():
    @task
    def noop(i: int) -> int:
        return i

    for i in range(100):
        noop.override(task_id=f"noop_{i:03d}")(i)


bench_fanout_100()
