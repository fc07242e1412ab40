"""Login throttling shared through Redis: counts survive a restart and are shared by every process."""

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from helpers import BASE_URL, PASSWORD, in_ci
from security_helpers import CLIENT

from badges import create_app
from badges.web import limits

REDIS_URL = os.environ.get("BADGES_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")  # the job tests use 13

#: Another process: an app of its own on the same database and Redis, failing to log in five times.
WORKER = """
import json, sys
from badges import create_app
config = json.loads(sys.argv[1])
app = create_app(config)
client = app.test_client()
codes = [client.post("/login", data={"email": config["EMAIL"], "password": "wrong password"}).status_code
         for _ in range(5)]
print(json.dumps(codes))
"""


def _redis_unavailable() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            if connection.recv(16).startswith(b"+PONG"):
                return None
    except OSError as error:
        return f"Redis at 127.0.0.1:6379 is not reachable ({error.__class__.__name__})"
    return "Redis at 127.0.0.1:6379 did not answer PING"


@pytest.fixture
def make_app():  # noqa: ANN201
    """Return create_app; every app made is closed (its database connections) after the test."""
    made = []

    def _make(config: dict):  # noqa: ANN202
        made.append(create_app(config))
        return made[-1]

    yield _make
    for instance in made:
        instance.extensions["badges.engine"].dispose()


@pytest.fixture
def redis_config(app, kek_text: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The configuration of an app whose rate-limit counters live in Redis (a fresh key space)."""
    reason = _redis_unavailable()
    if reason:
        if in_ci():
            pytest.fail(reason + " — CI must run the Redis tests (.ci/run starts the server)")
        pytest.skip(reason)
    # The module-wide limiter keeps the first key prefix it was given; let it take this test's.
    monkeypatch.setattr(limits.limiter, "_key_prefix", "")
    return {
        "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"], "BADGES_KEK": kek_text,
        "BADGES_BASE_URL": BASE_URL, "BADGES_DATABASE_URL": app.config["BADGES_DATABASE_URL"],
        "WTF_CSRF_ENABLED": False, "BADGES_REDIS_URL": REDIS_URL,
        # A key space of this test's own: parallel runs and other tests never share counters.
        "RATELIMIT_KEY_PREFIX": "test-" + uuid.uuid4().hex,
    }


def test_failed_logins_in_another_process_count_here_and_survive_its_end(redis_config, people, tmp_path: Path,
                                                                          make_app):
    config = {**redis_config, "EMAIL": CLIENT}
    env = {**os.environ, "BADGES_INSTANCE_PATH": str(tmp_path / "worker-instance")}
    done = subprocess.run([sys.executable, "-c", WORKER, json.dumps(config)], env=env, capture_output=True,
                          text=True, timeout=120, check=True, cwd=Path(__file__).resolve().parents[2])
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [400] * 5
    # The other process has ended; a freshly started app here knows what happened there.
    restarted = make_app(redis_config)
    assert restarted.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    blocked = restarted.test_client().post("/login", data={"email": CLIENT, "password": PASSWORD})
    assert blocked.status_code == 429  # even the right password waits


def test_two_app_instances_share_one_count(redis_config, people, make_app):
    first, second = make_app(redis_config), make_app(redis_config)
    for number in range(5):
        instance = (first, second)[number % 2]
        assert instance.test_client().post("/login", data={"email": CLIENT, "password": "nope"}).status_code == 400
    for instance in (first, second):
        assert instance.test_client().post("/login", data={"email": CLIENT, "password": PASSWORD}).status_code == 429


def test_without_redis_the_counters_stay_in_memory(app):
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
