"""Fixtures for checking credentials with the independent JavaScript verifier.

``js_verify(credential, documents) -> {"verified", "errors", "statusRevoked", "statusResults"}``
``js_verify_batch([(credential, documents), ...]) -> [result, ...]`` (one Node process)

Both skip when Node or ``tests/interop/node_modules`` is missing, and fail instead when the
``CI`` environment variable is set.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# importable both under pytest's default "prepend" import mode and under importlib mode
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import jsverify  # noqa: E402


# ``js_verify`` itself is defined in tests/conftest.py so that every test folder can use it.


@pytest.fixture(scope="session")
def js_verify_batch(
    js_verify: jsverify.JsVerifier,
) -> Callable[[list[jsverify.Pair]], list[dict[str, Any]]]:
    return js_verify.batch
