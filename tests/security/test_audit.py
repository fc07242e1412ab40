"""Static security analysis: bandit finds nothing in badges/ that is not justified in place.

pip-audit needs the vulnerability database on the network and runs in `make audit` only.
"""

import importlib.util
import json
import subprocess
import sys

import pytest
from helpers import REPO_ROOT, in_ci


def _bandit(*arguments: str) -> dict:
    if importlib.util.find_spec("bandit") is None:
        reason = "bandit is not installed (pip install -e '.[test]')"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, "-m", "bandit", "-c", "pyproject.toml", "-f", "json", "-q", *arguments],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    return json.loads(done.stdout)


def test_bandit_finds_nothing_unjustified_in_the_code():
    report = _bandit("-r", "badges")
    findings = [f"{r['filename']}:{r['line_number']}: {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert findings == [], "justify each with `# nosec <id>` and its reason, or fix it:\n" + "\n".join(findings)
    assert report["metrics"]["_totals"]["loc"] > 10_000  # it really looked at the code


def test_bandit_would_catch_a_shell_command(tmp_path):
    """The gate works: a file with an obvious problem is reported."""
    sample = tmp_path / "bad.py"
    sample.write_text("import subprocess\nsubprocess.call('ls ' + input(), shell=True)\n", encoding="utf-8")
    report = _bandit(str(sample))
    assert {result["test_id"] for result in report["results"]} >= {"B602"}
