"""The benchmark suite of Osaamispassi (``make bench``): one run, every number side by side.

    python bench/run.py            # the full run (10,000-award bulk jobs, 15 s of load per endpoint)
    python bench/run.py --quick    # a reduced run in under two minutes (1,000-award jobs, 5 s of load)
    python bench/run.py --smoke    # tiny sizes, SQLite only: checks that the suite still works

Measured in one run, so that the machine's state is the same for all of them:

1. per credential, on one core: signing our own credential shape (fast path and the general
   pyld path), the JavaScript reference stack signing the same credential with the same key,
   raw Ed25519 signing, full verification and proof-only verification, PNG baking;
2. a bulk award job end to end on SQLite and on PostgreSQL, each in its own process (wall time,
   peak memory of that process);
3. the verify API, a share page of 50 badges and a passport page of 300 badges, served by
   ``badges serve`` and loaded by a bounded load generator on 127.0.0.1.

Prints a table and writes ``bench-results.json`` (numbers; ``null`` for what could not run here,
with the reason under ``skipped``).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import common
import micro
import serving

HERE = Path(__file__).resolve().parent
#: Sizes per mode: micro iterations, JS iterations, rounds they alternate in, bulk awards, load
#: seconds, warm-up seconds, passport badges, share badges, badge definitions, server workers
#: (default: one per core).
MODES = {
    "full": {"iterations": 1000, "js": 300, "rounds": 10, "bulk": 10_000, "duration": 15, "warmup": 3,
             "passport": 300, "share": 50, "definitions": 30},
    "quick": {"iterations": 300, "js": 100, "rounds": 5, "bulk": 1000, "duration": 5, "warmup": 1,
              "passport": 300, "share": 50, "definitions": 30},
    "smoke": {"iterations": 20, "js": 4, "rounds": 2, "bulk": 20, "duration": 1, "warmup": 0,
              "passport": 12, "share": 4, "definitions": 4, "workers": 1},
}
TARGETS = {
    "sign_speedup_vs_js": (">=", 5.0),
    "bulk_10k_wall_s_sqlite": ("<=", 15.0),
    "bulk_10k_wall_s_postgres": ("<=", 15.0),
    "bulk_10k_peak_rss_mb": ("<=", 300.0),
    "verify_rps": (">=", 300.0),
    "verify_p99_ms": ("<=", 50.0),
    "passport300_p95_ms": ("<=", 50.0),
    "share50_p95_ms": ("<=", 50.0),
}
REQUIRED = (
    "sign_ms", "js_reference_sign_ms", "ed25519_sign_ms", "verify_ms", "bulk_10k_wall_s_sqlite",
    "bulk_10k_wall_s_postgres", "bulk_10k_peak_rss_mb", "verify_rps", "verify_p99_ms", "passport300_p95_ms",
    "share50_p95_ms",
)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; print the table; write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="reduced run, under two minutes")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes, SQLite only (for the test suite)")
    parser.add_argument("--out", type=Path, default=common.REPO_ROOT / "bench-results.json")
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out: micro,bulk,http")
    parser.add_argument("--databases", default=None, help="bulk databases (default sqlite,postgresql)")
    parser.add_argument("--connections", type=int, default=4, help="load generator connections (default 4)")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--load-generator", choices=("wrk", "python", "auto"), default="wrk",
                        help="wrk (apt-get installs it when missing, if it can; else loadgen.py), "
                             "python (bench/loadgen.py), auto (wrk only when already installed)")
    args = parser.parse_args(argv)
    name = "smoke" if args.smoke else "quick" if args.quick else "full"
    sizes = MODES[name]
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    databases = (args.databases or ("sqlite" if args.smoke else "sqlite,postgresql")).split(",")

    started = time.perf_counter()
    results: dict[str, Any] = {
        "mode": name, "quick": name != "full", "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(), "python": platform.python_version(), "load_average_before": common.load_average(),
        "skipped": {},
    }
    if "micro" not in skip:
        _section(results, "micro", lambda: _micro(results, sizes))
    if "bulk" not in skip:
        _section(results, "bulk", lambda: _bulk(results, sizes, databases))
    if "http" not in skip:
        _section(results, "http", lambda: _http(results, sizes, args.connections, args.load_generator,
                                                not args.no_install))
    results["load_average_after"] = common.load_average()
    results["total_s"] = time.perf_counter() - started
    for key in REQUIRED:
        results.setdefault(key, None)
    _ratios(results)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nWrote {args.out}")
    return 0


def _section(results: dict[str, Any], name: str, action) -> None:  # noqa: ANN001 - a callable
    print(f"… {name}", file=sys.stderr, flush=True)
    began = time.perf_counter()
    action()
    results[f"section_{name}_s"] = time.perf_counter() - began


def _micro(results: dict[str, Any], sizes: dict[str, int]) -> None:
    with common.temp_folder() as tmp:
        found = micro.run(sizes["iterations"], sizes["js"], Path(tmp), rounds=sizes["rounds"])
    if found.get("js_skipped"):
        results["skipped"]["js_reference"] = found.pop("js_skipped")
    results.update(found)


def _bulk(results: dict[str, Any], sizes: dict[str, int], databases: list[str]) -> None:
    count = sizes["bulk"]
    label = "10k" if count == 10_000 else f"{count // 1000}k" if count % 1000 == 0 else str(count)
    results["bulk_count"] = count
    peaks = []
    for database in databases:
        if database == "postgresql" and (reason := common.postgres_unavailable()):
            results["skipped"]["bulk_postgres"] = reason
            continue
        found = run_bulk(database, count)
        suffix = "postgres" if database == "postgresql" else database
        results[f"bulk_{label}_wall_s_{suffix}"] = found["wall_s"]
        results[f"bulk_{label}_awards_per_s_{suffix}"] = found["awards_per_s"]
        results[f"bulk_{label}_peak_rss_mb_{suffix}"] = found["peak_rss_mb"]
        results[f"bulk_{label}_unverified_{suffix}"] = found["unverified"]
        # The required keys name 10k; a smaller run fills them with its own numbers (see "bulk_count").
        results[f"bulk_10k_wall_s_{suffix}"] = found["wall_s"]
        peaks.append(found["peak_rss_mb"])
    if peaks:
        results["bulk_10k_peak_rss_mb"] = max(peaks)


def run_bulk(database: str, count: int) -> dict[str, Any]:
    """Run bench/bulk.py in a child process; return its report with the child's own peak RSS."""
    with common.temp_folder() as tmp:
        out_path = Path(tmp) / "bulk.json"
        with out_path.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - our own script
                [sys.executable, str(HERE / "bulk.py"), "--database", database, "--count", str(count)],
                stdout=out,
            )
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"bench/bulk.py --database {database} failed with {process.returncode}")
        found = json.loads(out_path.read_text(encoding="utf-8").strip().splitlines()[-1])
    # ru_maxrss (kB on Linux) of that child alone: its peak resident memory, whatever ran before.
    found["peak_rss_mb"] = max(found.get("peak_rss_mb", 0.0), usage.ru_maxrss / 1024)
    return found


def _http(results: dict[str, Any], sizes: dict[str, int], connections: int, generator: str,
          allow_install: bool) -> None:
    with common.temp_folder() as tmp:
        found = serving.run(
            folder=Path(tmp), duration=sizes["duration"], warmup=sizes["warmup"], connections=connections,
            passport_badges=sizes["passport"], share_badges=sizes["share"], definitions=sizes["definitions"],
            workers=sizes.get("workers"), generator=generator, allow_install=allow_install,
        )
    results.update(found)
    for page in ("passport300", "share50"):
        for key in ("p50_ms", "p95_ms", "p99_ms", "rps"):
            results.setdefault(f"{page}_{key}", None)


def _ratios(results: dict[str, Any]) -> None:
    sign, js, raw = results.get("sign_ms"), results.get("js_reference_sign_ms"), results.get("ed25519_sign_ms")
    if sign and js and "sign_speedup_vs_js" not in results:  # micro.run gives the median of per-round ratios
        results["sign_speedup_vs_js"] = js / sign
    if sign and raw:
        results["sign_over_ed25519"] = sign / raw
    general = results.get("sign_general_path_ms")
    if sign and general:
        results["fast_path_speedup"] = general / sign


# --- the table ------------------------------------------------------------------------------------------

ROWS = (
    ("Per credential, one core", None, None),
    ("sign_ms", "sign (our credential, fast path)", "ms"),
    ("sign_fresh_created_ms", "sign, a new proof time each (no config reuse)", "ms"),
    ("sign_general_path_ms", "sign, general pyld path", "ms"),
    ("js_reference_sign_ms", "sign, JS reference (@digitalbazaar/vc)", "ms"),
    ("ed25519_sign_ms", "raw Ed25519 sign (the floor)", "ms"),
    ("sign_speedup_vs_js", "speed-up vs the JS reference", "×"),
    ("js_same_proof_value", "same proofValue as the JS stack", ""),
    ("general_path_same_proof_value", "same proofValue as the pyld path", ""),
    ("verify_ms", "verify (all checks, status list included)", "ms"),
    ("verify_proof_ms", "verify the proof only", "ms"),
    ("js_reference_verify_ms", "verify the proof, JS reference", "ms"),
    ("bake_png_us", "bake the credential into the PNG", "µs"),
    ("Bulk award job (signed, stored, status-indexed)", None, None),
    ("bulk_count", "awards per job", ""),
    ("bulk_10k_wall_s_sqlite", "wall time, SQLite", "s"),
    ("bulk_10k_wall_s_postgres", "wall time, PostgreSQL", "s"),
    ("bulk_10k_peak_rss_mb", "peak RSS of the job process", "MB"),
    ("Under load (badges serve, 127.0.0.1)", None, None),
    ("verify_endpoint", "verify endpoint", ""),
    ("verify_rps", "verify: requests/s", "/s"),
    ("verify_p50_ms", "verify: p50", "ms"),
    ("verify_p99_ms", "verify: p99", "ms"),
    ("share50_rps", "share page: requests/s", "/s"),
    ("share50_p50_ms", "share page: p50", "ms"),
    ("share50_p95_ms", "share page: p95", "ms"),
    ("passport300_rps", "passport page: requests/s", "/s"),
    ("passport300_p50_ms", "passport page: p50", "ms"),
    ("passport300_p95_ms", "passport page: p95", "ms"),
    ("verify_server_cpu_ms", "server CPU per request: verify", "ms"),
    ("share50_server_cpu_ms", "server CPU per request: share page", "ms"),
    ("passport300_server_cpu_ms", "server CPU per request: passport page", "ms"),
    ("verify_loadgen_cpu_cores", "load generator's own CPU (cores)", ""),
)


def _format(value: Any, unit: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        text = f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:,.0f}"
    else:
        text = str(value)
    return f"{text} {unit}".strip() if unit not in ("", "×") else f"{text}{unit}"


def _verdict(key: str, value: Any) -> str:
    if key not in TARGETS or not isinstance(value, (int, float)):
        return ""
    op, limit = TARGETS[key]
    ok = value >= limit if op == ">=" else value <= limit
    return f"{'≥' if op == '>=' else '≤'} {limit:g}  {'ok' if ok else 'MISSED'}"


def table(results: dict[str, Any]) -> str:
    """Return the results as a plain-text table, with the targets and whether they were met."""
    lines = [
        f"Osaamispassi benchmarks — {results['mode']} run, {results['cpu_count']} cores, Python {results['python']}",
        f"load average before {results['load_average_before']}, after {results.get('load_average_after', 'n/a')}",
    ]
    if results["mode"] != "full":
        lines.append(f"NOTE: a {results['mode']} run: the bulk keys named 10k hold a {results.get('bulk_count')}-award "
                     f"job, the page keys pages of {results.get('passport_badges')}/{results.get('share_badges')} "
                     "badges; compare full runs only with full runs.")
    for key, label, unit in ROWS:
        if label is None:
            lines.append(f"\n{key}")
            continue
        value = results.get(key)
        lines.append(f"  {label:<50} {_format(value, unit):>14}  {_verdict(key, value)}".rstrip())
    for what, reason in results.get("skipped", {}).items():
        lines.append(f"  skipped {what}: {reason}")
    lines.append(f"\nload generator: {results.get('http_load_generator', 'n/a')}, "
                 f"{results.get('http_connections', 'n/a')} connections; server: "
                 f"{results.get('http_workers', 'n/a')} gunicorn sync workers; total {results.get('total_s', 0):.0f} s")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
