"""The layering rule (STYLE.md example 10): ``badges.core`` imports no framework and no network."""

import ast
from pathlib import Path

import pytest

CORE_DIR = Path(__file__).resolve().parent.parent / "badges" / "core"
#: Module prefixes the pure core must never import: web and database frameworks, network
#: clients, and the outer layers of this package.
FORBIDDEN = (
    "flask",
    "werkzeug",
    "sqlalchemy",
    "alembic",
    "requests",
    "httpx",
    "urllib3",
    "aiohttp",
    "urllib.request",
    "http.client",
    "socket",
    "ssl",
    "badges.models",
    "badges.services",
    "badges.db",
    "badges.web",
    "badges.cli",
)


def forbidden(name: str) -> bool:
    """Return True for ``name`` itself, its submodules, and any ``flask_*`` extension."""
    return name.startswith("flask_") or any(
        name == f or name.startswith(f + ".") for f in FORBIDDEN
    )


def imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """Return (line, module) for every import, ``from x import y`` also as ``x.y``."""
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names.append((node.lineno, module))
            # "from urllib import request" imports urllib.request.
            names += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "__import__"
            and node.args
        ):
            argument = node.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                names.append((node.lineno, argument.value))
    return names


CORE_FILES = sorted(CORE_DIR.rglob("*.py"))


def test_core_files_are_found():
    assert {"signing.py", "verification.py", "canonical.py"} <= {p.name for p in CORE_FILES}


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(CORE_DIR)))
def test_core_imports_no_framework(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}:{node.lineno}: use absolute imports"
    offending = [
        f"{path.name}:{line} imports {name}"
        for line, name in imported_names(tree)
        if forbidden(name)
    ]
    assert not offending, offending


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import flask", True),
        ("from flask_login import current_user", True),
        ("import sqlalchemy.orm", True),
        ("from urllib import request", True),
        ("from http import client", True),
        ("import socket", True),
        ("from badges.services import issue_award", True),
        ("from badges import web", True),
        ("__import__('requests')", True),
        ("import urllib.parse", False),
        ("from http import HTTPStatus", False),
        ("from badges.core.signing import create_proof", False),
        ("import flaskish", False),
    ],
)
def test_the_rule_itself(source: str, bad: bool):
    assert any(forbidden(name) for _, name in imported_names(ast.parse(source))) is bad
