"""The benchmark suite keeps working: its smoke mode runs every part at tiny sizes (no timing asserted)."""

import json
import subprocess
import sys
from numbers import Real

from helpers import REPO_ROOT

#: Keys bench-results.json must always have (a number, or null for what could not run).
REQUIRED = (
    "sign_ms", "js_reference_sign_ms", "ed25519_sign_ms", "verify_ms", "bulk_10k_wall_s_sqlite",
    "bulk_10k_wall_s_postgres", "bulk_10k_peak_rss_mb", "verify_rps", "verify_p99_ms", "passport300_p95_ms",
    "share50_p95_ms",
)


def test_the_benchmark_suite_runs_end_to_end_in_smoke_mode(tmp_path):
    out = tmp_path / "bench-results.json"
    completed = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, "bench/run.py", "--smoke", "--no-install", "--load-generator", "python", "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    for key in REQUIRED:
        assert key in results and (results[key] is None or isinstance(results[key], Real)), key
    # Measured even at smoke size: signing, verifying, a bulk job on SQLite, all three endpoints.
    for key in ("sign_ms", "ed25519_sign_ms", "verify_ms", "bulk_10k_wall_s_sqlite", "bulk_10k_peak_rss_mb",
                "verify_rps", "verify_p99_ms", "passport300_p95_ms", "share50_p95_ms"):
        assert results[key] > 0, key
    assert results["bulk_count"] == 20 and results["bulk_20_unverified_sqlite"] == 0
    assert results["verify_errors"] == results["share50_errors"] == results["passport300_errors"] == 0
    assert results["verify_endpoint"] == "/api/v1/verify"
    if results["js_reference_sign_ms"] is not None:  # Node and the interop packages are there
        assert results["js_same_proof_value"] is True
    assert "Osaamispassi benchmarks" in completed.stdout and "smoke run" in completed.stdout
