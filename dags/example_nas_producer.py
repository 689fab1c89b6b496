"""NAS pipeline, part 1: the day's file is fetched on an Edge worker (the server next to the NAS) into the shared
NAS folder, which then publishes the `nas_filestorage` Asset; example_nas_consumer parses it on a Celery worker.

`plan` runs on a Celery worker (the default executor), `download` on an Edge worker: `executor="EdgeExecutor"` and
one of the Edge workers' queues. The NAS folder is AIRFLOW_NAS_DIR in every task's environment (the kit's
airflow_nas_dir). A cluster without Edge workers has no Edge executor, where a task naming it makes the whole file
fail to parse: this DAG exists only where the Edge executor is configured.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pendulum

from airflow.configuration import conf
from airflow.sdk import Asset, dag, get_current_context, task

NAS_FILESTORAGE = Asset("nas_filestorage")
EDGE_QUEUE = "edge_queue"
EDGE_CONFIGURED = "EdgeExecutor" in conf.get("core", "executor", fallback="")


def nas_dir() -> Path:
    return Path(os.environ.get("AIRFLOW_NAS_DIR", "/mnt/nas"))


if EDGE_CONFIGURED:

    @dag(
        dag_id="example_nas_producer",
        schedule="@daily",
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        tags=["example", "edge", "asset"],
        doc_md=__doc__,
        params={"work_seconds": 0},
    )
    def example_nas_producer():
        @task
        def plan() -> dict:
            ctx = get_current_context()
            day = (ctx.get("logical_date") or pendulum.now("UTC")).strftime("%Y%m%d")
            return {"day": day, "planned_on": socket.gethostname()}

        @task(executor="EdgeExecutor", queue=EDGE_QUEUE, outlets=[NAS_FILESTORAGE])
        def download(plan: dict) -> dict:
            import time

            ctx = get_current_context()
            # A stand-in for a slow download: long enough, when asked, to restart the Edge worker under it.
            time.sleep(int(ctx["params"].get("work_seconds") or 0))
            # One file per run, named after its day and run: two runs of the same day never overwrite each other's
            # file before its consumer has read it.
            run = "".join(c if c.isalnum() or c in "-_." else "_" for c in ctx["run_id"])
            target = nas_dir() / f"{plan['day']}-{run}.txt"
            content = f"day {plan['day']}: fetched on {socket.gethostname()}, planned on {plan['planned_on']}\n"
            # Written under a temporary name and renamed: a reader never sees half a file.
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            partial.write_text(content)
            partial.chmod(0o644)
            partial.replace(target)
            ctx["outlet_events"][NAS_FILESTORAGE].extra = {"path": str(target), "day": plan["day"]}
            print(f"wrote {target}: {content.strip()}")
            return {"path": str(target), "host": socket.gethostname(), "content": content}

        download(plan())

    example_nas_producer()
