"""Background jobs (bulk awards) with visible progress: an embedded runner, or RQ on Redis.

``enqueue(app, job)`` hands a committed job to the app's *backend*; ``run_job(app, public_id)``
does the work and is all a worker needs. Backends:

- ``InlineBackend`` runs the job at once, in the caller's thread (tests: ``BADGES_JOBS_INLINE``,
  the default when ``TESTING``).
- ``ThreadBackend`` (the embedded default) runs jobs one at a time in a daemon thread of the web
  process, started on the first enqueue or on the first request after a start when unfinished
  jobs exist.
- ``QueueBackend`` puts jobs on an RQ queue in Redis when ``BADGES_REDIS_URL`` is set; ``badges
  worker`` (see ``badges.worker_cli``) runs them, on this machine or any other with the same
  database and Redis.

The job row in the database is the truth; a queue message only says "look at this job". So
jobs survive a restart (unfinished ones are queued again when a worker or web process starts),
and a message that arrives twice does no harm:

- A runner first *claims* the job with one conditional UPDATE (queued, or running with a
  heartbeat older than ``BADGES_JOBS_STALE_AFTER`` seconds): two runners never process one
  job at the same time. The claim's owner renews the heartbeat with every commit of progress,
  and each commit is conditional on still owning the job, so a runner that was taken over
  (it stalled past the limit) stops at its next commit instead of racing its successor.
- Rows are issued in chunks (about 2 % of the job, at most ``CHUNK_ROWS``), each in one
  transaction together with the job's ``done`` counter: an award is either complete or
  absent, and the progress is always what was committed. A chunk that fails is rolled back
  and done again row by row, so the job stops at the exact failing row with its line.
- Every row's award carries an idempotency key (``job:<job>:<row>``, unique in the
  database), so even a runner that lost its progress never issues twice.
"""

import logging
import os
import queue
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from badges import awarding, services
from badges.core.errors import BadgesError
from badges.core.keywrap import parse_kek
from badges.models import Job, Organisation, User

log = logging.getLogger(__name__)

#: What a job kind does with one row: ``handler(session, site, job, index, now=…)``.
Handler = Callable[..., Any]
HANDLERS: dict[str, Handler] = {awarding.JOB_KIND_AWARDS: awarding.process_award_row}
#: The same work for rows ``start``..``stop - 1`` in one transaction:
#: ``handler(session, site, job, start, stop, now=…)``; it raises if any row fails.
CHUNK_HANDLERS: dict[str, Handler] = {awarding.JOB_KIND_AWARDS: awarding.process_award_rows}
#: The most rows issued in one transaction.
CHUNK_ROWS = 200
#: Statuses a runner may work on.
RUNNABLE = ("queued", "running")
#: How often (seconds) an idle worker deletes orphaned evidence photos and stale drafts.
HOUSEKEEPING_INTERVAL = 3600.0
#: Default of ``BADGES_JOBS_STALE_AFTER``: a running job whose heartbeat is older than this
#: (seconds) is taken to be abandoned by a dead worker and may be taken over.
STALE_AFTER = 30.0
#: Default of ``BADGES_JOBS_QUEUE``, the RQ queue bulk jobs go to.
QUEUE = "badges"
#: Default of ``BADGES_JOBS_TIMEOUT``: RQ stops a job that runs longer than this (seconds).
QUEUE_TIMEOUT = 3600
_EXTENSION = "badges.jobs"
_lock = threading.Lock()
#: The app a worker process serves (set by ``serving``; RQ calls ``run_queued`` without one).
_serving: Flask | None = None


def utcnow() -> datetime:
    """Return the current time, aware, in UTC (the runner's clock; tests may replace it)."""
    return datetime.now(UTC)


def setting(app: Flask, name: str, default: Any = None) -> Any:
    """Return ``BADGES_<name>`` from the app's config.

    Environment variables arrive without the ``BADGES_`` prefix (Flask strips it), an instance
    ``config.py`` may use the full name; both are read.
    """
    value = app.config.get(f"BADGES_{name}")
    if value is None:
        value = app.config.get(name)
    return default if value in (None, "") else value


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def inline(app: Flask) -> bool:
    """Return True when jobs run at once in the caller's thread (``BADGES_JOBS_INLINE``, tests)."""
    choice = str(setting(app, "JOBS_BACKEND", "")).lower()
    return choice == "inline" or (not choice and _flag(setting(app, "JOBS_INLINE", app.testing)))


def redis_url(app: Flask) -> str | None:
    """Return the Redis URL jobs and rate limits share, or None for the embedded runner."""
    return setting(app, "REDIS_URL")


def queue_name(app: Flask) -> str:
    """Return the name of the RQ queue the app's jobs go to."""
    return str(setting(app, "JOBS_QUEUE", QUEUE))


def stale_after(app: Flask) -> float:
    """Return after how many seconds without a heartbeat a running job may be taken over."""
    return float(setting(app, "JOBS_STALE_AFTER", STALE_AFTER))


def chunk_size(total: int) -> int:
    """Return how many rows of a job of ``total`` rows are issued in one transaction.

    About 2 % of the job, between 1 and ``CHUNK_ROWS``: the progress bar moves in small steps,
    a small job goes row by row, and a large one pays the per-transaction cost (queries,
    status-slot allocation, commit) once per chunk instead of once per row.
    """
    return max(1, min(CHUNK_ROWS, total // 50))


# --- backends -----------------------------------------------------------------------------------


class Backend(Protocol):
    """Where enqueued jobs go."""

    def submit(self, public_id: str, *, unless_queued: bool = False) -> None:
        """Arrange for ``run_job(app, public_id)`` to run (``unless_queued``: not a second time)."""


class InlineBackend:
    """Run each job at once in the caller's thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def submit(self, public_id: str, *, unless_queued: bool = False) -> None:
        """Run the job now."""
        run_job(self.app, public_id)


class ThreadBackend:
    """One daemon worker thread in this process, started lazily; jobs run one after another."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.started = threading.Lock()

    def submit(self, public_id: str, *, unless_queued: bool = False) -> None:
        """Queue the job and make sure the worker runs."""
        self.start()
        self.queue.put(public_id)

    def start(self) -> None:
        """Start the worker unless it runs already; it first picks up jobs a crash left behind."""
        with self.started:
            if self.thread is not None and self.thread.is_alive():
                return
            self.thread = threading.Thread(target=self._work, name="badges-jobs", daemon=True)
            self.thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Let the worker finish what is queued, then end it (for shutdown and tests)."""
        with self.started:
            thread = self.thread
        if thread is not None and thread.is_alive():
            self.queue.put(None)
            thread.join(timeout)

    def _work(self) -> None:
        self._housekeeping()
        for public_id in unfinished(self.app):
            self.queue.put(public_id)
        while True:
            try:
                public_id = self.queue.get(timeout=HOUSEKEEPING_INTERVAL)
            except queue.Empty:
                self._housekeeping()
                continue
            if public_id is None:
                return
            try:
                run_job(self.app, public_id)
            except Exception:  # keep the worker alive; the job row says what failed
                log.exception("job %s stopped unexpectedly", public_id)

    def _housekeeping(self) -> None:
        try:
            clean_up(self.app)
        except Exception:
            log.exception("housekeeping failed")


class QueueBackend:
    """Put jobs on an RQ queue in Redis; ``badges worker`` processes run them."""

    def __init__(self, app: Flask, url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.app = app
        self.connection = Redis.from_url(url)
        self.queue = Queue(queue_name(app), connection=self.connection)
        self.timeout = int(setting(app, "JOBS_TIMEOUT", QUEUE_TIMEOUT))

    def submit(self, public_id: str, *, unless_queued: bool = False) -> None:
        """Queue a message for the job (none when ``unless_queued`` and one waits already).

        Each message has an id of its own: a second message for the same job is harmless (the
        claim turns it away), while reusing one RQ id could let RQ's clean-up of a dead
        worker's message mark the new one failed.
        """
        from redis.exceptions import RedisError

        try:
            if unless_queued and self.waiting(public_id):
                return
            self.queue.enqueue_call(
                run_queued, args=(public_id,), timeout=self.timeout, result_ttl=24 * 3600,
                failure_ttl=7 * 24 * 3600, job_id=f"{self.queue.name}-{public_id}-{secrets.token_hex(4)}",
                description=f"badges job {public_id}",
            )
        except RedisError:
            # The job row is committed: a worker queues it again when it starts, and its
            # periodic maintenance finds queued jobs that have no message.
            log.exception("could not queue job %s; a worker will pick it up when it starts", public_id)

    def waiting(self, public_id: str) -> bool:
        """Return True when a message for the job waits in the queue."""
        return any(public_id in message for message in self.queue.get_job_ids())

    def workers(self) -> int:
        """Return how many RQ workers listen on the queue."""
        from rq import Worker

        return Worker.count(queue=self.queue)


def backend(app: Flask) -> Backend:
    """Return the app's job backend, creating it on first use.

    Inline when ``BADGES_JOBS_INLINE`` (default in tests); RQ when ``BADGES_REDIS_URL`` is set,
    unless ``BADGES_JOBS_BACKEND=thread`` keeps Redis for rate limits only; else the thread.
    """
    with _lock:
        found = app.extensions.get(_EXTENSION)
        if found is None:
            choice = str(setting(app, "JOBS_BACKEND", "")).lower()
            url = redis_url(app)
            if inline(app):
                found = InlineBackend(app)
            elif url and choice in ("", "rq"):
                found = QueueBackend(app, url)
            elif choice == "rq":
                raise RuntimeError("BADGES_JOBS_BACKEND=rq needs BADGES_REDIS_URL (or REDIS_URL)")
            else:
                found = ThreadBackend(app)
            app.extensions[_EXTENSION] = found
        return found


def enqueue(app: Flask, job: Job) -> None:
    """Hand a committed, queued job to the backend (inline in tests, a thread or RQ otherwise)."""
    backend(app).submit(job.public_id)


def resume(app: Flask) -> list[str]:
    """Queue the jobs left queued or running (e.g. by a restart) again; return them.

    A job that a live runner still holds gets a message too: it is turned away by the claim,
    after waiting to see whether the holder's heartbeat still moves (see ``run_job``).
    """
    pending = unfinished(app)
    worker = backend(app)
    if not pending:
        return pending
    if isinstance(worker, ThreadBackend):
        worker.start()  # the worker queues the unfinished jobs itself
    else:
        for public_id in pending:
            worker.submit(public_id, unless_queued=True)
    return pending


def requeue_abandoned(app: Flask) -> list[str]:
    """Queue again the jobs no live runner holds: queued ones, and running ones gone stale.

    Workers call this periodically, so a job whose worker died is finished by another even
    when nobody restarts anything; a job that already has a waiting message gets no second.
    """
    cutoff = utcnow() - timedelta(seconds=stale_after(app))
    with _session(app) as session:
        public_ids = list(session.scalars(
            select(Job.public_id).where(or_(
                Job.status == "queued",
                and_(Job.status == "running", or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff)),
            )).order_by(Job.created_at, Job.id)
        ))
    worker = backend(app)
    for public_id in public_ids:
        worker.submit(public_id, unless_queued=True)
    return public_ids


def init_app(app: Flask) -> None:
    """Resume unfinished jobs on the first request this process serves (not in tests)."""
    if inline(app):
        return
    state = {"checked": False}

    def resume_once() -> None:
        if state["checked"]:
            return
        with _lock:
            if state["checked"]:
                return
            state["checked"] = True
        try:
            resume(app)
        except Exception:  # never break a page because of the job runner
            log.exception("could not resume unfinished jobs")

    app.before_request(resume_once)


# --- running a job --------------------------------------------------------------------------------


@contextmanager
def serving(app: Flask) -> Iterator[None]:
    """Let ``run_queued`` (called by RQ with a job id only) use ``app`` while the block runs."""
    global _serving  # one app per worker process
    previous, _serving = _serving, app
    try:
        yield
    finally:
        _serving = previous


def run_queued(public_id: str) -> str:
    """Run a job from the queue in the app this worker serves (what RQ messages call)."""
    global _serving  # a plain ``rq worker`` builds its app on the first message
    app = _serving
    if app is None:  # a plain ``rq worker``: build the app from the environment once
        from badges import create_app

        with _lock:
            app = _serving = _serving or create_app()
    return run_job(app, public_id)


def _site(app: Flask) -> services.Site:
    site = app.extensions.get("badges.site")
    if site is None:
        site = services.Site(base_url=app.config["BADGES_BASE_URL"], kek=parse_kek(app.config["BADGES_KEK"]))
    return site


def _session(app: Flask) -> Session:
    return app.extensions["badges.sessionmaker"]()


def unfinished(app: Flask) -> list[str]:
    """Return the public ids of jobs that are queued or running, oldest first."""
    with _session(app) as session:
        return list(session.scalars(
            select(Job.public_id).where(Job.status.in_(RUNNABLE)).order_by(Job.created_at, Job.id)
        ))


def runner_id() -> str:
    """Return a name for one run of a job: host, process and a random part (threads differ)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class _Lost(Exception):
    """Another runner took the job over (this one stalled past the stale limit)."""


def run_job(app: Flask, public_id: str, *, wait: bool = True) -> str:
    """Claim a queued (or abandoned) job and process it; return its status afterwards.

    When another runner holds the job, ``wait`` watches its heartbeat for up to the stale
    limit: a heartbeat that moves means the holder lives (return at once), one that stands
    still means it died, and the job is taken over. A row that fails marks the job failed
    with its line and reason and stops; finished rows stay. If this runner itself dies on an
    exception (or is interrupted), its claim is released so that the next start resumes at once.
    """
    site = _site(app)
    me = runner_id()
    limit = stale_after(app)
    with _session(app) as session:
        job = session.scalar(select(Job).where(Job.public_id == public_id))
        if job is None:
            return "missing"
        if not _acquire(session, job, me, limit=limit, wait=wait):
            return job.status
        finished = False
        try:
            status = _process(session, site, job, me)
            finished = True
            return status
        except _Lost:
            finished = True
            log.warning("job %s was taken over by another runner; %s stops", public_id, me)
            return "running"
        finally:
            if not finished:
                _release(session, job.id, me)


def _claim(session: Session, job: Job, me: str, *, limit: float) -> bool:
    """Take the job with one conditional UPDATE; return True if this runner now holds it."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job.id, or_(
            Job.status == "queued",
            and_(Job.status == "running",
                 or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < now - timedelta(seconds=limit))),
        ))
        .values(status="running", worker=me, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(job)
    return result.rowcount == 1


def _acquire(session: Session, job: Job, me: str, *, limit: float, wait: bool) -> bool:
    """Claim the job, watching a holder's heartbeat for up to ``limit`` seconds if ``wait``."""
    seen: list[datetime | None] = []
    while job.status in RUNNABLE:
        if _claim(session, job, me, limit=limit):
            return True
        if not wait or job.status not in RUNNABLE:
            return False
        if seen and seen[0] != job.heartbeat_at:
            return False  # the holder made progress while we watched: it lives
        seen[:] = [job.heartbeat_at]
        time.sleep(min(1.0, limit / 4))
        session.refresh(job)
    return False


def _release(session: Session, job_id: int, me: str) -> None:
    """Give up this runner's claim (keeping the job running) so that a new start resumes it."""
    try:
        session.rollback()  # first end the interrupted chunk: on SQLite it holds the write lock
        session.execute(
            update(Job).where(Job.id == job_id, Job.worker == me, Job.status == "running")
            .values(worker=None, heartbeat_at=None).execution_options(synchronize_session=False)
        )
        session.commit()
    except Exception:  # the database may be what failed; the heartbeat then goes stale instead
        log.exception("could not release job %s", job_id)


def _own(session: Session, job: Job, me: str, **values: Any) -> None:
    """Update the job if this runner still holds it (with a new heartbeat), else raise _Lost."""
    result = session.execute(
        update(Job).where(Job.id == job.id, Job.worker == me)
        .values(heartbeat_at=utcnow(), **values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise _Lost(job.public_id)
    for name, value in values.items():
        set_committed_value(job, name, value)


def _process(session: Session, site: services.Site, job: Job, me: str) -> str:
    handler = HANDLERS.get(job.kind)
    if handler is None:
        _fail(session, job, me, job.done, "unknown_kind", f"unknown job kind {job.kind!r}")
        return "failed"
    chunk_handler = CHUNK_HANDLERS.get(job.kind)
    total = len(job.payload.get("rows", []))
    size = chunk_size(total) if chunk_handler else 1
    index = job.done
    while index < total:
        stop = min(index + size, total)
        if stop - index > 1 and _run_chunk(session, site, job, index, stop, chunk_handler, me):
            index = stop
            continue
        for row in range(index, stop):  # a single row, or a failed chunk done again row by row
            error = _run_row(session, site, job, row, handler, me)
            if error is not None:
                _fail(session, job, me, row, *error)
                return "failed"
        index = stop
    finished_at = utcnow()
    _own(session, job, me, status="done", finished_at=finished_at)
    _record(session, job, "job.done", {"kind": job.kind, "rows": job.done})
    session.commit()
    return "done"


def _run_chunk(
    session: Session, site: services.Site, job: Job, start: int, stop: int, handler: Handler, me: str
) -> bool:
    """Issue rows ``start``..``stop - 1`` and commit them with the counter; False if any failed."""
    try:
        handler(session, site, job, start, stop, now=utcnow())
        _own(session, job, me, done=stop)
        session.commit()
        return True
    except _Lost:
        raise
    except Exception:
        # Nothing of the chunk stays; going row by row finds (and reports) the failing row.
        session.rollback()
        log.info("job %s: rows %d-%d failed as a chunk; going row by row", job.public_id, start, stop - 1)
        return False


def _record(session: Session, job: Job, action: str, details: dict[str, Any]) -> None:
    services.record(
        session, action, now=job.finished_at or utcnow(),
        actor=session.get(User, job.created_by_id) if job.created_by_id else None,
        organisation=session.get(Organisation, job.organisation_id), target=job.public_id, details=details,
    )


def _run_row(
    session: Session, site: services.Site, job: Job, index: int, handler: Handler, me: str
) -> tuple[str, str] | None:
    """Run one row and commit it with the counter; return (code, message) if it failed."""
    for attempt in (1, 2):
        try:
            handler(session, site, job, index, now=utcnow())
            _own(session, job, me, done=index + 1)
            session.commit()
            return None
        except _Lost:
            raise
        except IntegrityError as error:
            # Another runner committed the same idempotency key first: the retry finds its award.
            session.rollback()
            if attempt == 2:
                return "integrity", str(error.orig)
        except BadgesError as error:
            session.rollback()
            return error.code, str(error)
        except Exception as error:
            session.rollback()
            log.exception("job %s row %d failed", job.public_id, index)
            return "internal", type(error).__name__
    return None  # pragma: no cover - the loop always returns


def _fail(session: Session, job: Job, me: str, index: int, code: str, message: str) -> None:
    line = awarding.job_row_line(job, index)
    _own(
        session, job, me, status="failed", error=f"line {line}: {code}: {message}",
        payload={**job.payload, "failure": {"index": index, "line": line, "code": code}}, finished_at=utcnow(),
    )
    _record(session, job, "job.failed", {"kind": job.kind, "line": line, "code": code, "rows_done": job.done})
    session.commit()


def clean_up(app: Flask) -> int:
    """Delete orphaned evidence photos and stale draft jobs; return how many photos went."""
    with _session(app) as session:
        deleted = awarding.delete_orphans(session, now=utcnow())
        session.commit()
        return deleted
