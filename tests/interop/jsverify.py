"""Run the independent JavaScript verifier (``tests/interop/verify.mjs``) from Python.

The verifier is built from the Digital Bazaar VC stack pinned in
``tests/interop/package.json``; nothing in it comes from the ``badges`` package.

Protocol (see the header of verify.mjs):

* ``node verify.mjs`` reads ``{"credential": {...}, "documents": {url: doc}, "now"?: iso}``
  on stdin and writes ``{"verified": bool, "errors": [str], "statusRevoked": bool|None,
  "statusResults": [...]}``.
* ``node verify.mjs --batch`` reads a JSON array of such objects and writes an array of results.

Use :func:`require_verifier` from a fixture: it skips when Node or the npm packages are missing,
except under CI (``CI`` set), where it fails, so CI always runs the interop tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

INTEROP_DIR = Path(__file__).resolve().parent
VERIFY_SCRIPT = INTEROP_DIR / "verify.mjs"
SIGN_FIXTURE_SCRIPT = INTEROP_DIR / "sign_fixture.mjs"
NODE_MODULES = INTEROP_DIR / "node_modules"

SKIP_HINT = "run `make test`, which installs the interop npm packages"
TIMEOUT_SECONDS = 600

Pair = tuple[Mapping[str, Any], Mapping[str, Any]]


def in_ci() -> bool:
    value = os.environ.get("CI", "").strip().lower()
    return value not in ("", "0", "false", "no")


def unavailable_reason() -> str | None:
    """Why the JS verifier cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return f"`node` is not on PATH; {SKIP_HINT}"
    if not (NODE_MODULES / "@digitalbazaar" / "vc").is_dir():
        return f"{NODE_MODULES} is missing; {SKIP_HINT}"
    return None


class JsVerifier:
    """Callable: ``verifier(credential, documents) -> result``; ``verifier.batch(pairs)``."""

    def __init__(self, node: str) -> None:
        self.node = node

    def _run(self, script: Path, args: list[str], stdin: str | None) -> str:
        proc = subprocess.run(  # noqa: S603 - fixed script, our own arguments
            [self.node, str(script), *args],
            input=stdin,
            cwd=INTEROP_DIR,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{script.name} exited {proc.returncode}: {proc.stderr.strip() or proc.stdout}"
            )
        return proc.stdout

    @staticmethod
    def _item(credential: Mapping[str, Any], documents: Mapping[str, Any] | None,
              now: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"credential": credential, "documents": dict(documents or {})}
        if now is not None:
            item["now"] = now
        return item

    def __call__(self, credential: Mapping[str, Any],
                 documents: Mapping[str, Any] | None = None, *, now: str | None = None
                 ) -> dict[str, Any]:
        out = self._run(VERIFY_SCRIPT, [], json.dumps(self._item(credential, documents, now)))
        return json.loads(out)

    verify = __call__

    def batch(self, pairs: Iterable[Pair]) -> list[dict[str, Any]]:
        items = [self._item(c, d) for c, d in pairs]
        if not items:
            return []
        results = json.loads(self._run(VERIFY_SCRIPT, ["--batch"], json.dumps(items)))
        if len(results) != len(items):
            raise RuntimeError(f"verify.mjs returned {len(results)} results for {len(items)}")
        return results

    def sign_fixtures(self) -> dict[str, Any]:
        """Credentials signed in Node with a fresh did:key (see sign_fixture.mjs)."""
        return json.loads(self._run(SIGN_FIXTURE_SCRIPT, [], None))


def require_verifier() -> JsVerifier:
    """The verifier, or skip (fail under CI) when Node / the npm packages are missing."""
    reason = unavailable_reason()
    if reason is not None:
        if in_ci():
            pytest.fail(f"interop verifier unavailable under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    node = shutil.which("node")
    assert node is not None
    return JsVerifier(node)
