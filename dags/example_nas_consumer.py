"""NAS pipeline, part 2: runs when example_nas_producer's Edge task has written a file to the NAS folder (its
`nas_filestorage` Asset event names the file) and parses it on a Celery worker, which mounts the same NAS.

Events that arrive while a consumer run is queued are consumed together by the next run: a run parses the file of
every event that triggered it, so none is skipped when two producer runs finish close together.
"""
from __future__ import annotations

import socket
from pathlib import Path

import pendulum

from airflow.sdk import Asset, dag, get_current_context, task

NAS_FILESTORAGE = Asset("nas_filestorage")


@dag(
    dag_id="example_nas_consumer",
    schedule=[NAS_FILESTORAGE],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "edge", "asset"],
    doc_md=__doc__,
)
def example_nas_consumer():
    @task
    def parse() -> dict:
        events = get_current_context()["triggering_asset_events"][NAS_FILESTORAGE]
        files = []
        for event in events:
            path = Path(event.extra["path"])
            content = path.read_text()
            print(f"read {path} on {socket.gethostname()}: {content.strip()}")
            files.append({"path": str(path), "content": content, "lines": content.count("\n"),
                          "source_run_id": event.source_run_id})
        return {"host": socket.gethostname(), "files": files}

    parse()


example_nas_consumer()
