"""The schema comes from Alembic and matches the models; `badges serve` really serves."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine

from badges.cli import main
from badges.db import alembic_config
from badges.models import Base


def test_migrations_build_exactly_the_models_schema(database_url: str):
    command.upgrade(alembic_config(database_url), "head")
    engine = create_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == [], "models changed without a migration: run alembic revision --autogenerate"


def test_migrations_downgrade_to_nothing_and_up_again(database_url: str):
    config = alembic_config(database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")


def test_keys_rotate_keeps_old_key_in_the_did_document(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("BADGES_BASE_URL", "https://passi.example.test")
    runner = CliRunner()
    runner.invoke(main, ["init"], catch_exceptions=False)
    runner.invoke(main, ["demo"], catch_exceptions=False)
    before = runner.invoke(main, ["keys", "list", "--org", "demo-saatio"]).output.split()[0]
    result = runner.invoke(main, ["keys", "rotate", "--org", "demo-saatio"], catch_exceptions=False)
    assert result.exit_code == 0
    listing = runner.invoke(main, ["keys", "list", "--org", "demo-saatio"]).output
    assert before in listing and "retired" in listing and "active" in listing
    assert runner.invoke(main, ["keys", "rotate", "--org", "no-such-org"]).output.startswith("Error: no organisation")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_badges_serve_runs_gunicorn_and_answers(tmp_path: Path):
    env = {**os.environ, "BADGES_INSTANCE_PATH": str(tmp_path / "instance"), "BADGES_BASE_URL": "http://127.0.0.1"}
    badges = Path(sys.executable).parent / "badges"
    subprocess.run([badges, "init"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([badges, "serve", "--port", str(port), "--workers", "1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                    assert json.loads(response.read()) == {"status": "ok", "database": "ok"}
                    assert "gunicorn" in response.headers.get("Server", "")
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?secret=query-value", timeout=2).close()  # noqa: S310
    finally:
        server.terminate()
        server.wait(timeout=10)
        output = server.stdout.read().decode()
        server.stdout.close()
    # One JSON line per request from the app; gunicorn's access log (raw paths, addresses) is off.
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {"method": "GET", "path": "/healthz", "status": 200}.items() <= lines[-1].items()
    assert "query-value" not in output and "127.0.0.1 -" not in output


def test_every_badges_setting_is_read_from_the_environment(tmp_path, monkeypatch):
    """BADGES_* variables reach the settings the code reads (rate limits, thresholds, …)."""
    from badges import create_app
    from badges.core.keywrap import new_kek

    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BADGES_API_RATE_LIMIT", "1200 per minute")
    monkeypatch.setenv("BADGES_GROUP_JOB_THRESHOLD", "25")
    app = create_app({"TESTING": True, "SECRET_KEY": "s" * 40, "BADGES_KEK": new_kek(),
                      "BADGES_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    assert app.config["BADGES_API_RATE_LIMIT"] == "1200 per minute"
    assert app.config["BADGES_GROUP_JOB_THRESHOLD"] == "25"
