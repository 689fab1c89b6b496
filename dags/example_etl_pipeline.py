"""Daily download -> parse -> load pipeline, the use case the kit was built for.

- fan-out: one `download` and one `parse` per source (dynamic task mapping), spread over the workers;
- fan-in: `load` gathers every parsed partition through XCom and publishes the day's summary;
- templated data-interval fields: `announce` renders {{ ds }}, {{ data_interval_start }} and
  {{ data_interval_end }}, and every task keys its partition on the run's data interval.
Each task records the host that ran it, so a run shows which worker did what.

No network is needed: `download` synthesises a deterministic CSV for (source, day), standing in for an
HTTP or GCS fetch.
"""
from __future__ import annotations

import csv
import hashlib
import io
import random
import socket
import time

import pendulum

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import Asset, Param, dag, get_current_context, task

DAILY_SUMMARY = Asset("gs://airflow-gcp-kit-example/daily_summary")
SOURCES = ["berlin", "lisbon", "oslo", "paris", "rome", "vienna", "warsaw", "zurich"]


@dag(
    dag_id="example_etl_pipeline",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=2,
    tags=["example", "etl"],
    params={
        "sources": Param(SOURCES, type="array", minItems=1, description="Sources to fan out over."),
        "rows": Param(200, type="integer", minimum=1, maximum=100_000, description="Rows per source."),
        "work_seconds": Param(0, type="number", minimum=0, maximum=3600,
                              description="Extra seconds each parse takes (load and restart tests)."),
    },
    doc_md=__doc__,
)
def example_etl_pipeline():
    announce = BashOperator(
        task_id="announce",
        bash_command=(
            "echo 'partition {{ ds }}: "
            "data interval {{ data_interval_start }} -> {{ data_interval_end }}'"
        ),
    )

    @task
    def list_sources() -> list[str]:
        return list(get_current_context()["params"]["sources"])

    @task(retries=2, retry_delay=pendulum.duration(seconds=10))
    def download(source: str) -> dict:
        ctx = get_current_context()
        day = ctx["ds"]
        seed = int(hashlib.sha256(f"{source}/{day}".encode()).hexdigest()[:8], 16)
        rng = random.Random(seed)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["station", "hour", "temperature_c"])
        for row in range(int(ctx["params"]["rows"])):
            writer.writerow([f"{source}-{row % 10}", row % 24, round(rng.uniform(-10, 35), 2)])
        return {"source": source, "day": day, "csv": buf.getvalue(), "host": socket.gethostname()}

    @task
    def parse(raw: dict) -> dict:
        ctx = get_current_context()
        time.sleep(float(ctx["params"]["work_seconds"]))
        temps = [float(r["temperature_c"]) for r in csv.DictReader(io.StringIO(raw["csv"]))]
        return {
            "source": raw["source"],
            "day": raw["day"],
            "rows": len(temps),
            "mean_c": round(sum(temps) / len(temps), 3),
            "max_c": max(temps),
            "min_c": min(temps),
            "downloaded_on": raw["host"],
            "parsed_on": socket.gethostname(),
        }

    @task(outlets=[DAILY_SUMMARY])
    def load(parsed: list[dict]) -> dict:
        ctx = get_current_context()
        parsed = list(parsed)
        summary = {
            "day": ctx["ds"],
            "interval": [str(ctx["data_interval_start"]), str(ctx["data_interval_end"])],
            "sources": len(parsed),
            "rows": sum(p["rows"] for p in parsed),
            "hottest": max(parsed, key=lambda p: p["max_c"])["source"],
            "hosts": sorted({p["parsed_on"] for p in parsed} | {p["downloaded_on"] for p in parsed}),
        }
        print(f"loaded summary: {summary}")
        return summary

    raw = download.expand(source=list_sources())
    announce >> raw
    load(parse.expand(raw=raw))


example_etl_pipeline()
