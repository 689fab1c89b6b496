"""The NAS pipeline of the example DAGs, run through the REST API: example_nas_producer (a Celery task, then an
Edge task writing the day's file to the NAS folder and publishing the nas_filestorage Asset), then the
example_nas_consumer run that Asset event starts (a Celery task reading the file). Used by `make demo` and the
Edge tests."""
import time
from datetime import datetime, timezone

PRODUCER = "example_nas_producer"
CONSUMER = "example_nas_consumer"
EDGE_TASK = "download"


def xcom(api, dag_id: str, run_id: str, task_id: str):
    return api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
                   params={"deserialize": "true"})["value"]


def settle(api, timeout: float = 300) -> None:
    """Wait until what Airflow runs by itself once the pair is unpaused has gone through: the producer's scheduled
    run (it is @daily, and unpausing it starts the last day's run) has ended, and the consumer has no Asset event
    waiting for its run. An event arriving while another waits would not get a run of its own: Airflow 3.3 keeps
    one queue entry per consumer (a second insert does nothing) and the run it creates consumes the events up to
    that entry's time only, so the later event waits for the next one (Known limitations, README)."""
    deadline = time.monotonic() + timeout
    state = {}
    while time.monotonic() < deadline:
        due = api.get(f"/api/v2/dags/{PRODUCER}").get("next_dagrun_run_after")
        state = {
            "producer run due": bool(due) and datetime.fromisoformat(due.replace("Z", "+00:00")) <= datetime.now(timezone.utc),
            "producer runs active": api.get(f"/api/v2/dags/{PRODUCER}/dagRuns",
                                            params={"state": ["queued", "running"], "limit": 1})["total_entries"],
            "consumer events queued": api.get(f"/api/v2/dags/{CONSUMER}/assets/queuedEvents")["total_entries"],
        }
        if not any(state.values()):
            return
        time.sleep(2)
    raise TimeoutError(f"the NAS pipeline did not settle within {timeout}s: {state}")


def consumer_run_for(api, producer_run_id: str, timeout: float = 180) -> str:
    """The consumer run the producer run's Asset event started (the API lists the runs each event created). A
    scheduled producer run next to ours may start a consumer run of its own, or share one with ours."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = api.get("/api/v2/assets/events", params={"source_dag_id": PRODUCER, "source_run_id": producer_run_id,
                                                          "source_task_id": EDGE_TASK})["asset_events"]
        created = [run["run_id"] for event in events for run in event["created_dagruns"] if run["dag_id"] == CONSUMER]
        if created:
            return created[0]
        time.sleep(2)
    raise TimeoutError(f"no {CONSUMER} run was started by the Asset event of {producer_run_id} within {timeout}s")


def run(api, work_seconds: int = 0, timeout: float = 600, started=None) -> dict:
    """Run the pipeline once; started(run_id) is called once the producer is triggered. Returns what ran where."""
    for dag_id in (PRODUCER, CONSUMER):
        api.enable(dag_id)
    settle(api)
    run_id = api.trigger(PRODUCER, conf={"work_seconds": work_seconds})
    if started:
        started(run_id)
    state = api.wait_run(PRODUCER, run_id, timeout=timeout)
    producer_tis = api.task_instances(PRODUCER, run_id)
    summary = {"producer": {"run_id": run_id, "state": state,
                            "hosts": {ti["task_id"]: ti["hostname"] for ti in producer_tis},
                            "executors": {ti["task_id"]: ti.get("executor") for ti in producer_tis},
                            "tries": {ti["task_id"]: ti["try_number"] for ti in producer_tis}}}
    if state != "success":
        return summary
    written = xcom(api, PRODUCER, run_id, EDGE_TASK)
    consumer_id = consumer_run_for(api, run_id)
    consumer_state = api.wait_run(CONSUMER, consumer_id, timeout=timeout)
    consumer_tis = api.task_instances(CONSUMER, consumer_id)
    summary["written"] = written
    summary["consumer"] = {"run_id": consumer_id, "state": consumer_state,
                           "hosts": {ti["task_id"]: ti["hostname"] for ti in consumer_tis}}
    if consumer_state == "success":
        parsed = xcom(api, CONSUMER, consumer_id, "parse")
        # What the consumer read of this producer run's file (the run may have parsed others too).
        summary["read"] = next((dict(f, host=parsed["host"]) for f in parsed["files"] if f["source_run_id"] == run_id),
                               {"files": parsed["files"]})
    return summary
