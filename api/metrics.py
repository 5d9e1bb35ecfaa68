"""Prometheus metrics through ``prometheus_client``: requests and latencies per route, and the
sizes the service reports about itself, collected at scrape time.

Each app has its own registry (tests build several apps in one process). With several worker
processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before they start: request
counts and latencies are then written there by every worker and summed on each scrape
(prometheus_client's multiprocess mode); the gauges are the answering worker's own view.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: ``(name, help, value, labels)`` of each gauge, computed when scraped.
Gauges = Callable[[], Iterable[tuple[str, str, float, Mapping[str, str]]]]


class _GaugeCollector(Collector):
    def __init__(self, gauges: Gauges) -> None:
        self._gauges = gauges

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for name, help_text, value, labels in self._gauges():
            family = GaugeMetricFamily(name, help_text, labels=list(labels))
            family.add_metric(list(labels.values()), value)
            yield family


class Metrics:
    """The app's metrics. ``gauges`` is called on each scrape."""

    def __init__(self, gauges: Gauges) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "matcher_requests", "HTTP requests by method, route and status.",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self._seconds = Histogram(
            "matcher_request_seconds", "HTTP request latency by method and route.",
            ["method", "route"], buckets=BUCKETS, registry=self.registry,
        )  # fmt: skip
        #: what a scrape reads: every worker's files in multiprocess mode, else this registry
        self._scraped = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            self._scraped = CollectorRegistry()
            MultiProcessCollector(self._scraped)
        self._scraped.register(_GaugeCollector(gauges))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.labels(method, route, str(status)).inc()
        self._seconds.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        """The text exposition: every worker's requests (multiprocess mode) or this one's."""
        return generate_latest(self._scraped)
