"""Prometheus text exposition of request counts and latencies per route, with gauges."""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._buckets: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self._sums: dict[tuple[str, str], float] = defaultdict(float)
        self._counts: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(method, route, status)] += 1
            key = (method, route)
            self._sums[key] += seconds
            self._counts[key] += 1
            for position, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self._buckets[key][position] += 1

    def render(self, gauges: dict[str, tuple[str, float, dict[str, str]]]) -> str:
        lines = [
            "# HELP matcher_requests_total HTTP requests by method, route and status.",
            "# TYPE matcher_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), count in sorted(self._requests.items()):
                lines.append(
                    f'matcher_requests_total{{method="{method}",route="{route}",status="{status}"}} {count}'
                )
            lines += [
                "# HELP matcher_request_seconds HTTP request latency by method and route.",
                "# TYPE matcher_request_seconds histogram",
            ]
            for (method, route), buckets in sorted(self._buckets.items()):
                labels = f'method="{method}",route="{route}"'
                for bound, count in zip(BUCKETS, buckets):
                    lines.append(f'matcher_request_seconds_bucket{{{labels},le="{bound}"}} {count}')
                total = self._counts[(method, route)]
                lines.append(f'matcher_request_seconds_bucket{{{labels},le="+Inf"}} {total}')
                lines.append(
                    f"matcher_request_seconds_sum{{{labels}}} {self._sums[(method, route)]:.6f}"
                )
                lines.append(f"matcher_request_seconds_count{{{labels}}} {total}")
        for name, (help_text, value, gauge_labels) in sorted(gauges.items()):
            label_text = ",".join(f'{k}="{v}"' for k, v in gauge_labels.items())
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")
        return "\n".join(lines) + "\n"
