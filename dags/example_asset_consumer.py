"""Runs whenever example_etl_pipeline publishes a new daily summary (Asset-driven scheduling)."""
from __future__ import annotations

import pendulum

from airflow.sdk import Asset, dag, get_current_context, task

DAILY_SUMMARY = Asset("gs://airflow-gcp-kit-example/daily_summary")


@dag(
    dag_id="example_asset_consumer",
    schedule=[DAILY_SUMMARY],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "asset"],
    doc_md=__doc__,
)
def example_asset_consumer():
    @task
    def report() -> dict:
        ctx = get_current_context()
        events = ctx["triggering_asset_events"]
        uris = sorted(getattr(asset, "uri", None) or getattr(asset, "name", str(asset)) for asset in events)
        print(f"triggered by {uris}")
        return {"triggered_by": uris}

    report()


example_asset_consumer()
