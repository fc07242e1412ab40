"""A small bounded HTTP load generator, used when ``wrk`` is not installed.

A fixed number of connections (threads), each sending the same request again as soon as the
previous answer arrived, for a fixed time. Prints the same ``BENCH_JSON`` line as
``wrk_report.lua``. Python threads share one core, so this generator tops out lower than wrk:
use it to check that the pages work, and wrk for the published numbers.

    python bench/loadgen.py --url http://127.0.0.1:5000/healthz --connections 4 --duration 5
"""

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlsplit


def main(argv: list[str] | None = None) -> int:
    """Run the load and print the report line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body-file")
    parser.add_argument("--header", action="append", default=[], help="'Name: value' (repeatable)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args(argv)
    body = open(args.body_file, "rb").read() if args.body_file else None  # noqa: SIM115, PTH123 - read once
    headers = dict(line.split(":", 1) for line in args.header)
    headers = {name.strip(): value.strip() for name, value in headers.items()}
    print("BENCH_JSON " + json.dumps(run(args.url, args.method, body, headers, args.connections, args.duration)))
    return 0


def run(url: str, method: str, body: bytes | None, headers: dict[str, str], connections: int,
        duration: float) -> dict[str, float]:
    """Load ``url`` from ``connections`` threads for ``duration`` seconds; return the counts."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    counts = {"bytes": 0, "errors_status": 0, "errors_connect": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker() -> None:
        mine: list[float] = []
        sent = bad = failed = 0
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                connection.close()
                failed += 1
                continue
            mine.append((time.perf_counter() - start) * 1e6)
            sent += len(data)
            bad += response.status >= 400
        connection.close()
        with lock:
            latencies.extend(mine)
            counts["bytes"] += sent
            counts["errors_status"] += bad
            counts["errors_connect"] += failed

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()

    def at(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0

    return {
        "requests": len(latencies), "duration_us": elapsed * 1e6, **counts, "errors_read": 0, "errors_write": 0,
        "errors_timeout": 0, "p50_us": at(0.5), "p95_us": at(0.95), "p99_us": at(0.99),
        "max_us": latencies[-1] if latencies else 0.0, "mean_us": sum(latencies) / len(latencies) if latencies else 0.0,
    }


if __name__ == "__main__":
    raise SystemExit(main())
