"""StatsD in, Prometheus out: the bridge between Airflow's metrics and whatever scrapes this VM.

Airflow ([metrics] statsd_on, statsd_influxdb_enabled, legacy_names_on = False) sends one UDP datagram per
measurement to 127.0.0.1, in StatsD's line protocol with InfluxDB-style tags:

    airflow.ti.finish,dag_id=etl,task_id=load,state=success:1|c
    airflow.executor.open_slots,executor_class_name=CeleryExecutor:16|g
    airflow.dag_processing.last_duration,file_name=etl:812.4|ms

This process keeps every series in memory and serves them on /metrics in Prometheus's text format: the
Ops Agent's Prometheus receiver scrapes it on GCP, a Prometheus server in the local test bed. Names become
Prometheus names (airflow.ti.finish -> airflow_ti_finish), tags become labels. Counters get Prometheus's
"_total" suffix; gauges keep their name (StatsD's "+N"/"-N" change them); timers ("ms") and histograms ("h")
become histograms in seconds, named NAME_seconds. Sets ("s") are not used by Airflow and are counted as
rejected. A line that does not parse is counted, never fatal: a task on this VM can send datagrams here too,
so the input is not trusted (see the role's README section in the repository's README, "Metrics").

The only dependency is prometheus_client, which is in the Airflow lock (Flower needs it).
"""
import argparse
import math
import re
import socket
import threading

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

# Prometheus metric and label names; anything else in a StatsD name is turned into "_".
_INVALID_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_]")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Seconds; Airflow's durations run from milliseconds (API calls) to hours (tasks). Each bucket is one more
# series per timer, and Cloud Monitoring bills per sample, so they are few.
HISTOGRAM_BUCKETS = (0.01, 0.1, 0.5, 1, 5, 30, 120, 600, 3600, 14400)
# A bound on memory that no sender (task code included) can push past: new series beyond it are dropped.
DEFAULT_MAX_SERIES = 20000
# With more than one executor configured (Celery and Edge), the scheduler names each executor's slot gauges
# after its class, airflow.executor.open_slots.CeleryExecutor; one executor gives airflow.executor.open_slots. The class
# becomes an "executor" label, so that one series name (what the alert rules and the dashboard query) holds
# every executor's value.
_PER_EXECUTOR = re.compile(
    r"^((?:[A-Za-z0-9_.-]+\.)?executor\.(?:open_slots|queued_tasks|running_tasks))\.([A-Za-z][A-Za-z0-9_]{0,63})$")


def prometheus_name(statsd_name: str) -> str:
    name = _INVALID_NAME_CHARS.sub("_", statsd_name)
    return "_" + name if name[:1].isdigit() else name


class ParseError(ValueError):
    pass


def parse_line(line: str):
    """One StatsD line -> (name, labels tuple, value, type, sample rate). Raises ParseError."""
    try:
        head, rest = line.split(":", 1)
    except ValueError:
        raise ParseError("no ':'") from None
    fields = rest.split("|")
    if len(fields) < 2:
        raise ParseError("no '|type'")
    raw_value, kind = fields[0].strip(), fields[1].strip()
    rate = 1.0
    for extra in fields[2:]:
        if extra.startswith("@"):
            try:
                rate = float(extra[1:])
            except ValueError:
                raise ParseError("bad sample rate") from None
            if not 0 < rate <= 1:
                raise ParseError("sample rate outside (0, 1]")
    name, *tags = head.strip().split(",")
    if not name:
        raise ParseError("empty name")
    labels = {}
    if per_executor := _PER_EXECUTOR.match(name):
        name, labels["executor"] = per_executor.groups()
    for tag in tags:
        key, sep, value = tag.partition("=")
        key = prometheus_name(key)
        if not sep or not _LABEL_NAME.match(key) or key.startswith("__"):
            raise ParseError(f"bad tag {tag!r}")
        labels[key] = value
    if kind not in ("c", "g", "ms", "h"):
        raise ParseError(f"unsupported type {kind!r}")
    try:
        value = float(raw_value)
    except ValueError:
        raise ParseError("value is not a number") from None
    if not math.isfinite(value):
        raise ParseError("value is not finite")
    relative = kind == "g" and raw_value[:1] in "+-"
    return prometheus_name(name), tuple(sorted(labels.items())), value, ("g+" if relative else kind), rate


class Store:
    """Every series received so far; the registry's collector reads it on each scrape."""

    def __init__(self, max_series: int = DEFAULT_MAX_SERIES):
        self.max_series = max_series
        self._lock = threading.Lock()
        # (kind, name) -> {labels: value}; for histograms the value is [bucket counts..., sum, count].
        self._series: dict = {}
        # Prometheus name -> kind: a name sent as a counter and later as a gauge keeps its first kind.
        self._kinds: dict = {}
        self._count = 0
        self.lines = 0
        self.rejected = 0
        self.dropped = 0

    def _slot(self, kind: str, name: str, labels: tuple, initial):
        if self._kinds.setdefault(name, kind) != kind:
            raise ParseError(f"{name} is a {self._kinds[name]}")
        family = self._series.setdefault((kind, name), {})
        if labels not in family:
            if self._count >= self.max_series:
                return None
            family[labels] = initial() if callable(initial) else initial
            self._count += 1
        return family

    def add(self, line: str) -> None:
        with self._lock:
            self.lines += 1
            try:
                self._add(*parse_line(line))
            except ParseError:
                self.rejected += 1

    def _add(self, name: str, labels: tuple, value: float, kind: str, rate: float) -> None:
        if kind == "c":
            family = self._slot("counter", name, labels, 0.0)
            if family is not None:
                # A counter never goes down; a negative increment is a sender's mistake.
                family[labels] += max(value, 0.0) / rate
        elif kind in ("g", "g+"):
            family = self._slot("gauge", name, labels, 0.0)
            if family is not None:
                family[labels] = family[labels] + value if kind == "g+" else value
        else:
            family = self._slot("histogram", name + "_seconds", labels,
                                lambda: [0.0] * (len(HISTOGRAM_BUCKETS) + 2))
            if family is not None:
                seconds = value / 1000.0 if kind == "ms" else value
                cells = family[labels]
                weight = 1.0 / rate
                for i, bound in enumerate(HISTOGRAM_BUCKETS):
                    if seconds <= bound:
                        cells[i] += weight
                cells[-2] += seconds * weight
                cells[-1] += weight
        if family is None:
            self.dropped += 1

    def collect(self):
        with self._lock:
            snapshot = {key: {labels: (list(v) if isinstance(v, list) else v) for labels, v in family.items()}
                        for key, family in self._series.items()}
            lines, rejected, dropped, count = self.lines, self.rejected, self.dropped, self._count
        for (kind, name), family in sorted(snapshot.items()):
            label_names = sorted({key for labels in family for key, _ in labels})
            if kind == "counter":
                metric = CounterMetricFamily(name, f"StatsD counter {name}", labels=label_names)
            elif kind == "gauge":
                metric = GaugeMetricFamily(name, f"StatsD gauge {name}", labels=label_names)
            else:
                metric = HistogramMetricFamily(name, f"StatsD timer {name} (seconds)", labels=label_names)
            for labels, value in family.items():
                values = [dict(labels).get(key, "") for key in label_names]
                if kind == "histogram":
                    buckets = [(floatToGoString(bound), value[i]) for i, bound in enumerate(HISTOGRAM_BUCKETS)]
                    buckets.append(("+Inf", value[-1]))
                    metric.add_metric(values, buckets, value[-2])
                else:
                    metric.add_metric(values, value)
            yield metric
        yield CounterMetricFamily("statsd_exporter_lines", "StatsD lines received", value=lines)
        yield CounterMetricFamily("statsd_exporter_lines_rejected", "StatsD lines that did not parse", value=rejected)
        yield CounterMetricFamily("statsd_exporter_samples_dropped",
                                  "Samples of new series dropped at the series limit", value=dropped)
        yield GaugeMetricFamily("statsd_exporter_series", "Series held", value=count)


def serve_udp(store: Store, host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((host, port))
    while True:
        datagram = sock.recv(65535)
        for line in datagram.decode("utf-8", "replace").splitlines():
            if line.strip():
                store.add(line)


def split_address(value: str) -> tuple:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statsd", type=split_address, default=("127.0.0.1", 9125),
                        help="UDP HOST:PORT to receive StatsD on (default 127.0.0.1:9125)")
    parser.add_argument("--web", type=split_address, default=("127.0.0.1", 9102),
                        help="HOST:PORT to serve /metrics on (default 127.0.0.1:9102)")
    parser.add_argument("--max-series", type=int, default=DEFAULT_MAX_SERIES)
    args = parser.parse_args(argv)
    store = Store(args.max_series)
    registry = CollectorRegistry()
    registry.register(store)
    start_http_server(args.web[1], addr=args.web[0], registry=registry)
    serve_udp(store, *args.statsd)


if __name__ == "__main__":
    main()
