"""Fixtures for the job tests: an organisation with clients and a badge, Redis, app configs."""

from dataclasses import dataclass
from functools import cache

import pytest
from flask import g
from helpers import FIXED_NOW, in_ci
from jobs_helpers import REDIS_URL, clean_redis, new_queue_name

from badges import jobs
from badges.models import Organisation, User


@pytest.fixture
def app(app):
    """The app, forgetting per-request caches (user, language) at the start of each request."""

    def forget() -> None:
        for name in ("_login_user", "_flask_babel"):
            g.pop(name, None)

    app.before_request_funcs.setdefault(None, []).insert(0, forget)
    return app


@dataclass
class Bulk:
    """Organisation ``verstas`` with a coach, four clients and a badge."""

    org: Organisation
    coach: User
    clients: list[User]
    badge: object


@pytest.fixture
def bulk(session, make_org, make_user, make_badge) -> Bulk:
    """An organisation ready for bulk awards (committed)."""
    org = make_org("verstas", "Työpaja Verstas")
    coach = make_user("coach@example.test", "Kalle Valmentaja", organisation=org, role="coach")
    clients = [
        make_user(f"client{i}@example.test", f"Asiakas {i}", organisation=org, role="client", password=None)
        for i in range(3)
    ] + [make_user(None, "Liisa Laine", organisation=org, role="client", password=None)]
    badge = make_badge(org)
    session.commit()
    return Bulk(org, coach, clients, badge)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """Pin the runner's clock to the fixtures' time (awards are dated FIXED_NOW)."""
    monkeypatch.setattr(jobs, "utcnow", lambda: FIXED_NOW)


@cache
def _redis_unavailable() -> str | None:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except RedisError as error:
        return f"Redis at {REDIS_URL} is not reachable ({type(error).__name__})"
    return None


@pytest.fixture
def redis_queue():
    """A Redis connection and a queue name of this test; its keys are deleted afterwards."""
    reason = _redis_unavailable()
    if reason:
        if in_ci():
            pytest.fail(reason + " — CI must run the Redis tests (.ci/run starts the server)")
        pytest.skip(reason)
    from redis import Redis

    connection = Redis.from_url(REDIS_URL)
    queue = new_queue_name()
    try:
        yield connection, queue
    finally:
        clean_redis(connection, queue)
        connection.close()


@pytest.fixture
def queue_app(app, redis_queue):
    """The app with jobs going to this test's RQ queue (not run inline)."""
    _connection, queue = redis_queue
    app.config.update(BADGES_JOBS_INLINE=False, BADGES_REDIS_URL=REDIS_URL, BADGES_JOBS_QUEUE=queue,
                      BADGES_JOBS_STALE_AFTER=2)
    app.extensions.pop("badges.jobs", None)
    return app
