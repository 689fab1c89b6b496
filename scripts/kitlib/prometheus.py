"""A client of the test bed's Prometheus (roles/prometheus_local): instant queries and bounded waits."""
import time

import requests


class Prometheus:
    def __init__(self, base_url: str, timeout: float = 10):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    @classmethod
    def for_testbed(cls, bed) -> "Prometheus":
        return cls(bed.url("prometheus_local_port"))

    def _get(self, path: str, **params):
        response = requests.get(f"{self.base_url}{path}", params=params, timeout=self.timeout)
        response.raise_for_status()
        body = response.json()
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus {path} {params}: {body}")
        return body["data"]

    def query(self, expr: str) -> list:
        """An instant vector: [(labels, value), ...]."""
        data = self._get("/api/v1/query", query=expr)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(sample["metric"], float(sample["value"][1])) for sample in data["result"]]

    def value(self, expr: str, default: float | None = None) -> float | None:
        """The value of an expression that yields at most one series (default when it yields none)."""
        result = self.query(expr)
        if len(result) > 1:
            raise ValueError(f"{expr} gave {len(result)} series: {result}")
        return result[0][1] if result else default

    def firing(self) -> set:
        """Names of the alerts firing now."""
        return {alert["labels"]["alertname"] for alert in self._get("/api/v1/alerts")["alerts"]
                if alert["state"] == "firing"}

    def rules(self) -> dict:
        """Alerting rule name -> its rule (expression, duration, state) as Prometheus loaded it."""
        return {rule["name"]: rule for group in self._get("/api/v1/rules")["groups"]
                for rule in group["rules"] if rule["type"] == "alerting"}

    def targets(self) -> list:
        return self._get("/api/v1/targets")["activeTargets"]

    def wait_for(self, check, what: str, timeout: float = 120, interval: float = 2):
        """Call check() until it returns something true; its value, or TimeoutError naming what."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = check()
            except (requests.RequestException, RuntimeError) as error:
                last = error
            else:
                if last:
                    return last
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{what}: not within {timeout:.0f} s (last: {last!r})")
            time.sleep(interval)
