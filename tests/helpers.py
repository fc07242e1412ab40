"""Constants and small helpers shared by test modules (fixtures live in conftest.py)."""

import os
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
FIXED_NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BASE_URL = "https://passi.example.test"
PASSWORD = "correct horse battery staple"  # noqa: S105 - test password


def login(client, email: str, password: str = PASSWORD):
    """Log in through the form."""
    return client.post("/login", data={"email": email, "password": password})


def in_ci() -> bool:
    """Return True under CI, where tests needing a system component must not skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
