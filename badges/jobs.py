"""Background jobs (bulk awards) with visible progress; an embedded runner a real queue can replace.

``enqueue(app, job)`` hands a committed job to the app's *backend*; ``run_job(app, public_id)``
does the work and is all a worker needs. Backends:

- ``InlineBackend`` runs the job at once, in the caller's thread: tests (``BADGES_JOBS_INLINE``,
  the default when ``TESTING``) and a future ``badges worker`` CLI.
- ``ThreadBackend`` (the embedded default) runs jobs one at a time in a daemon thread of the web
  process, started on the first enqueue or on the first request after a start when unfinished
  jobs exist.

A Redis-backed backend (RQ, Huey or Dramatiq) only has to implement ``submit(public_id)`` and
let its workers call ``run_job``. Jobs are rows in the database, so they survive a restart:
rows are committed one at a time together with the job's ``done`` counter, and each row's award
has an idempotency key (``job:<job>:<row>``), so a resumed job never issues twice. The embedded
runner assumes one process runs jobs (the single-node default); with several processes, use
the queue backend.
"""

import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from badges import awarding, services
from badges.core.errors import BadgesError
from badges.core.keywrap import parse_kek
from badges.models import Job, Organisation, User

log = logging.getLogger(__name__)

#: What a job kind does with one row: ``handler(session, site, job, index, now=…)``.
Handler = Callable[..., Any]
HANDLERS: dict[str, Handler] = {awarding.JOB_KIND_AWARDS: awarding.process_award_row}
#: How often (seconds) an idle worker deletes orphaned evidence photos and stale drafts.
HOUSEKEEPING_INTERVAL = 3600.0
_EXTENSION = "badges.jobs"
_lock = threading.Lock()


def utcnow() -> datetime:
    """Return the current time, aware, in UTC (the runner's clock; tests may replace it)."""
    return datetime.now(UTC)


class Backend(Protocol):
    """Where enqueued jobs go."""

    def submit(self, public_id: str) -> None:
        """Arrange for ``run_job(app, public_id)`` to run."""


class InlineBackend:
    """Run each job at once in the caller's thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def submit(self, public_id: str) -> None:
        """Run the job now."""
        run_job(self.app, public_id)


class ThreadBackend:
    """One daemon worker thread in this process, started lazily; jobs run one after another."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.started = threading.Lock()

    def submit(self, public_id: str) -> None:
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


def backend(app: Flask) -> Backend:
    """Return the app's job backend, creating it on first use."""
    with _lock:
        found = app.extensions.get(_EXTENSION)
        if found is None:
            inline = app.config.get("BADGES_JOBS_INLINE", app.testing)
            found = InlineBackend(app) if inline else ThreadBackend(app)
            app.extensions[_EXTENSION] = found
        return found


def enqueue(app: Flask, job: Job) -> None:
    """Hand a committed, queued job to the backend (inline in tests, a thread by default)."""
    backend(app).submit(job.public_id)


def resume(app: Flask) -> list[str]:
    """Start the worker when jobs were left queued or running (e.g. by a restart); return them."""
    pending = unfinished(app)
    worker = backend(app)
    if not pending:
        return pending
    if isinstance(worker, ThreadBackend):
        worker.start()  # the worker queues the unfinished jobs itself
    else:
        for public_id in pending:
            worker.submit(public_id)
    return pending


def init_app(app: Flask) -> None:
    """Resume unfinished jobs on the first request this process serves (not in tests)."""
    if app.config.get("BADGES_JOBS_INLINE", app.testing):
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
            select(Job.public_id).where(Job.status.in_(("queued", "running"))).order_by(Job.created_at, Job.id)
        ))


def run_job(app: Flask, public_id: str) -> str:
    """Process a queued (or interrupted) job row by row; return its final status.

    Each row commits together with the job's ``done`` counter, so an award is either complete
    or absent and the progress is always visible. A row that fails marks the job failed with
    its line and reason and stops; finished rows stay.
    """
    site = _site(app)
    with _session(app) as session:
        job = session.scalar(select(Job).where(Job.public_id == public_id))
        if job is None:
            return "missing"
        if job.status not in ("queued", "running"):
            return job.status
        handler = HANDLERS.get(job.kind)
        if handler is None:
            _fail(session, job, job.done, "unknown_kind", f"unknown job kind {job.kind!r}")
            return "failed"
        job.status = "running"
        session.commit()
        total = len(job.payload.get("rows", []))
        index = job.done
        while index < total:
            error = _run_row(session, site, job, index, handler)
            if error is not None:
                _fail(session, job, index, *error)
                return "failed"
            index += 1
        job.status = "done"
        job.finished_at = utcnow()
        _record(session, job, "job.done", {"kind": job.kind, "rows": job.done})
        session.commit()
        return job.status


def _record(session: Session, job: Job, action: str, details: dict[str, Any]) -> None:
    services.record(
        session, action, now=job.finished_at or utcnow(),
        actor=session.get(User, job.created_by_id) if job.created_by_id else None,
        organisation=session.get(Organisation, job.organisation_id), target=job.public_id, details=details,
    )


def _run_row(session: Session, site: services.Site, job: Job, index: int, handler: Handler) -> tuple[str, str] | None:
    """Run one row and commit it with the counter; return (code, message) if it failed."""
    for attempt in (1, 2):
        try:
            handler(session, site, job, index, now=utcnow())
            job.done = index + 1
            session.commit()
            return None
        except IntegrityError as error:
            # Another worker committed the same idempotency key first: the retry finds its award.
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


def _fail(session: Session, job: Job, index: int, code: str, message: str) -> None:
    job = session.get(Job, job.id) or job
    line = awarding.job_row_line(job, index)
    job.status = "failed"
    job.error = f"line {line}: {code}: {message}"
    job.payload = {**job.payload, "failure": {"index": index, "line": line, "code": code}}
    job.finished_at = utcnow()
    _record(session, job, "job.failed", {"kind": job.kind, "line": line, "code": code, "rows_done": job.done})
    session.commit()


def clean_up(app: Flask) -> int:
    """Delete orphaned evidence photos and stale draft jobs; return how many photos went."""
    with _session(app) as session:
        deleted = awarding.delete_orphans(session, now=utcnow())
        session.commit()
        return deleted
