"""Helpers of the job tests: rows, counts, Redis clean-up, and code that runs in other processes."""

import io
import os
import signal
import uuid
from contextlib import contextmanager
from datetime import date

from sqlalchemy import func, select

from badges import awarding, create_app, jobs, services
from badges.models import Award, AuditEvent, Job, StatusList

#: Redis for the job tests: a database number of their own, and a key prefix per test.
REDIS_URL = os.environ.get("BADGES_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def rows_for(clients, version, count: int, *, note: str | None = "Havaittu työssä.", observed: date | None = None):
    """Return ``count`` job rows cycling over ``clients`` (ids only, as the CSV check makes them)."""
    return [
        {"line": i + 2, "client": clients[i % len(clients)].public_id, "version": version.public_id,
         "note": note, "observed": observed.isoformat() if observed else None, "photo": None}
        for i in range(count)
    ]


def photo_bytes() -> bytes:
    """Return a small JPEG (an evidence photo)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (48, 32), (40, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def award_count(session) -> int:
    """Return how many awards exist."""
    return session.scalar(select(func.count(Award.id)))


def check_awards(session, job: Job) -> list[Award]:
    """Assert the job's awards are one per row, each in a slot of its own; return them."""
    session.expire_all()
    awards = list(session.scalars(select(Award).where(awarding.of_job(job))))
    keys = [award.idempotency_key for award in awards]
    assert sorted(keys) == sorted(awarding.job_key(job, i) for i in range(job.total))
    slots = {(award.status_list_id, award.status_index) for award in awards}
    assert len(slots) == len(awards)
    return awards


def slots_consistent(session) -> None:
    """Assert every status slot handed out is used exactly once (no gaps, no doubles)."""
    session.expire_all()
    allocated = session.scalar(select(func.sum(StatusList.allocated))) or 0
    used = session.execute(select(Award.status_list_id, Award.status_index)).all()
    assert len(set(used)) == len(used) == allocated


def audit_count(session, action: str, target: str) -> int:
    """Return how many audit events of ``action`` name ``target``."""
    return session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == action, AuditEvent.target == target)
    )


def new_queue_name() -> str:
    """Return a queue name unique to one test (every RQ key of the test contains it)."""
    return f"t{uuid.uuid4().hex[:12]}"


def clean_redis(connection, queue: str) -> None:
    """Delete the keys a test's queue left behind (messages, registries, its workers)."""
    for key in connection.scan_iter(match=f"*{queue}*"):
        connection.delete(key)
    connection.srem("rq:queues", f"rq:queue:{queue}")
    for member in connection.smembers("rq:workers"):
        name = member.decode() if isinstance(member, bytes) else member
        if not connection.exists(name):
            connection.srem("rq:workers", member)


@contextmanager
def own_signals():
    """Restore SIGINT/SIGTERM after an in-process RQ worker installed its handlers."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def work_burst(app) -> bool:
    """Run an in-process RQ worker on the app's queue until it is empty; return whether it worked."""
    from badges.worker_cli import make_worker

    from badges.jobs import queue_name

    with own_signals():  # named after the queue, so that clean_redis finds its keys too
        return make_worker(app, name=f"{queue_name(app)}-{uuid.uuid4().hex[:6]}").work(burst=True)


# --- run in other processes (multiprocessing, spawn) -----------------------------------------------


def process_app(config: dict):
    """Return an app for a child process, with the test's database and keys."""
    os.environ["BADGES_INSTANCE_PATH"] = config.pop("instance")
    return create_app(config)


def award_in_process(config: dict, org_id: int, version_id: int, client_ids: list[int], worker: int,
                     count: int, batch: int, start_at) -> None:
    """Issue ``count`` awards into one organisation, ``batch`` slots per transaction (1: one by one)."""
    from badges.models import AchievementVersion, Organisation, User

    app = process_app(config)
    site = jobs._site(app)
    maker = app.extensions["badges.sessionmaker"]
    start_at.wait()
    issued = 0
    while issued < count:
        size = min(batch, count - issued)
        with maker() as session:
            organisation = session.get(Organisation, org_id)
            version = session.get(AchievementVersion, version_id)
            if batch == 1:  # the single award's path
                services.issue_award(session, site, version=version, recipient=session.get(User, client_ids[0]),
                                     now=jobs.utcnow(), idempotency_key=f"p{worker}:{issued}")
            else:  # the bulk job's path: a run of slots, then the awards
                slots = services.allocate_status_slots(session, site, organisation, size, now=jobs.utcnow())
                for n, slot in enumerate(slots):
                    services.build_award(
                        session, site, version=version, now=jobs.utcnow(), slot=slot,
                        recipient=session.get(User, client_ids[n % len(client_ids)]),
                        idempotency_key=f"p{worker}:{issued + n}",
                    )
            session.commit()
        issued += size
    app.extensions["badges.engine"].dispose()


def run_job_in_process(config: dict, public_id: str, start_at, results) -> None:
    """Run one job in this process (several processes race for it); report the status."""
    app = process_app(config)
    start_at.wait()
    results.put(jobs.run_job(app, public_id, wait=False))
    app.extensions["badges.engine"].dispose()
