"""``badges worker`` runs background jobs; ``badges jobs …`` lists, shows and continues them.

With ``BADGES_REDIS_URL`` set (or ``REDIS_URL`` in the instance ``config.py``), ``badges
worker`` is an RQ worker: start one per core on any machine with the same database and Redis.
It works in its own process (RQ's ``SimpleWorker``, no fork per job), so the signing caches
stay warm from job to job. Without Redis it runs the unfinished jobs straight from the database.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask

#: How often (seconds) the database runner looks for new jobs when there is no Redis.
POLL_INTERVAL = 5.0
_worker_class: Any = None


@contextmanager
def cli_app() -> Iterator[Flask]:
    """Create the app for one command; close its database connections when the command ends."""
    from badges import create_app

    app = create_app()
    try:
        yield app
    finally:
        app.extensions["badges.engine"].dispose()


def worker_class() -> Any:
    """Return the RQ worker class of badges (RQ is imported only by commands that need it)."""
    global _worker_class  # built once: RQ and redis take a tenth of a second to import
    if _worker_class is None:
        from rq import SimpleWorker

        from badges import jobs

        class BadgesWorker(SimpleWorker):
            """An RQ worker serving one badges app; its maintenance also re-queues abandoned jobs."""

            def __init__(self, *args: Any, app: Flask, **kwargs: Any) -> None:
                limit = jobs.stale_after(app)
                # Wake up about every stale limit even when idle, so that maintenance (below)
                # notices a job whose worker died soon after its heartbeat went stale.
                kwargs.setdefault("worker_ttl", int(limit) + 15)
                kwargs.setdefault("maintenance_interval", max(1, int(limit)))
                super().__init__(*args, **kwargs)
                self.app = app
                self.housekept = 0.0

            def execute_job(self, job: Any, queue: Any) -> Any:
                """Run the RQ job with this worker's app available to ``jobs.run_queued``."""
                with jobs.serving(self.app):
                    return super().execute_job(job, queue)

            def run_maintenance_tasks(self) -> None:
                """Clean RQ's registries, queue abandoned jobs again, and hourly clean up photos."""
                super().run_maintenance_tasks()
                try:
                    jobs.requeue_abandoned(self.app)
                    if time.monotonic() - self.housekept >= jobs.HOUSEKEEPING_INTERVAL:
                        self.housekept = time.monotonic()
                        jobs.clean_up(self.app)
                except Exception:  # a database hiccup must not stop the worker
                    self.log.exception("badges maintenance failed")

        _worker_class = BadgesWorker
    return _worker_class


def make_worker(app: Flask, *, queues: list[str] | None = None, name: str | None = None) -> Any:
    """Return an RQ worker for ``app`` listening on ``queues`` (default: the app's queue)."""
    from badges import jobs

    backend = jobs.backend(app)
    if not isinstance(backend, jobs.QueueBackend):
        raise click.ClickException("no Redis queue configured (set BADGES_REDIS_URL)")
    return worker_class()(queues or [backend.queue.name], connection=backend.connection, name=name, app=app)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run what is queued now, then exit.")
@click.option("--queues", default=None,
              help="Comma-separated queues to listen on (default: BADGES_JOBS_QUEUE, else 'badges').")
@click.option("--name", default=None, help="The worker's name in RQ (default: a random one).")
def worker_command(burst: bool, queues: str | None, name: str | None) -> None:
    """Run background jobs (bulk awards) from Redis; without Redis, from the database.

    On start, unfinished jobs are queued again (a restart loses nothing): a job another live
    worker holds is left to it, one whose worker died is taken over once its heartbeat is
    older than BADGES_JOBS_STALE_AFTER seconds (default 30).
    """
    from badges import jobs

    with cli_app() as app:
        if not isinstance(jobs.backend(app), jobs.QueueBackend):
            _run_from_database(app, burst=burst)
            return
        names = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
        worker = make_worker(app, queues=names, name=name)
        pending = jobs.resume(app)
        click.echo(f"Worker {worker.name} listening on {', '.join(worker.queue_names())}"
                   f" ({len(pending)} unfinished job(s) queued again)")
        worker.work(burst=burst, logging_level="INFO")


def _run_from_database(app: Flask, *, burst: bool) -> None:
    """Run unfinished jobs straight from the database, polling for new ones unless ``burst``."""
    from badges import jobs

    click.echo("No Redis queue (BADGES_REDIS_URL): running jobs from the database.")
    housekept = 0.0
    while True:
        if time.monotonic() - housekept >= jobs.HOUSEKEEPING_INTERVAL:
            housekept = time.monotonic()
            jobs.clean_up(app)
        for public_id in jobs.unfinished(app):
            status = jobs.run_job(app, public_id)
            click.echo(f"Job {public_id}: {status}")
        if burst:
            return
        time.sleep(POLL_INTERVAL)


# --- badges jobs ----------------------------------------------------------------------------------


@click.group("jobs")
def jobs_group() -> None:
    """List, show and continue background jobs."""


@jobs_group.command("list")
@click.option("--org", "slug", default=None, help="Only this organisation's jobs (its short name).")
@click.option("--status", type=click.Choice(["queued", "running", "done", "failed"]), default=None,
              help="Only jobs in this state.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="How many, newest first.")
def jobs_list(slug: str | None, status: str | None, limit: int) -> None:
    """List background jobs, newest first (drafts waiting for a start are left out)."""
    from sqlalchemy import select

    from badges import awarding, services
    from badges.db import get_session
    from badges.models import Job, Organisation

    with cli_app() as app, app.app_context():
        session = get_session()
        query = (select(Job, Organisation.slug).join(Organisation, Organisation.id == Job.organisation_id)
                 .where(Job.status != awarding.DRAFT))
        if slug:
            query = query.where(Job.organisation_id == services.get_organisation(session, slug).id)
        if status:
            query = query.where(Job.status == status)
        rows = session.execute(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)).all()
        if not rows:
            click.echo("No jobs.")
        for job, org_slug in rows:
            click.echo(f"{job.public_id}  {org_slug:<20} {job.status:<8} {job.done:>5}/{job.total:<5} "
                       f"{job.created_at:%Y-%m-%d %H:%M}  {job.worker or ''}")


@jobs_group.command("show")
@click.argument("job_id")
@click.option("--language", type=click.Choice(["fi", "sv", "en"]), default="en", show_default=True,
              help="Language of the reason a job stopped.")
def jobs_show(job_id: str, language: str) -> None:
    """Show one job: its state, progress, who runs it and why it stopped."""
    from badges import services
    from badges.db import get_session
    from badges.models import Job

    with cli_app() as app, app.app_context():
        job = services.get_by_public_id(get_session(), Job, job_id)
        click.echo(f"Job:       {job.public_id} ({job.kind}, from {job.payload.get('source', '?')})")
        click.echo(f"Status:    {job.status}")
        click.echo(f"Progress:  {job.done} of {job.total}")
        click.echo(f"Created:   {job.created_at:%Y-%m-%d %H:%M:%S} UTC")
        if job.finished_at:
            click.echo(f"Finished:  {job.finished_at:%Y-%m-%d %H:%M:%S} UTC")
        if job.worker:
            beat = f", heartbeat {job.heartbeat_at:%H:%M:%S} UTC" if job.heartbeat_at else ""
            click.echo(f"Worker:    {job.worker}{beat}")
        reason = stop_reason(app, job, language)
        if reason:
            click.echo(f"Stopped:   {reason}")


@jobs_group.command("retry")
@click.argument("job_id")
@click.option("--inline", is_flag=True, help="Run it in this process even when a Redis queue is configured.")
@click.option("--language", type=click.Choice(["fi", "sv", "en"]), default="en", show_default=True,
              help="Language of the reason if it stops again.")
def jobs_retry(job_id: str, inline: bool, language: str) -> None:
    """Continue a stopped job from the row where it stopped (or resume an interrupted one)."""
    from badges import awarding, services
    from badges.db import get_session
    from badges.models import Job, Organisation

    with cli_app() as app:
        with app.app_context():
            session = get_session()
            job = services.get_by_public_id(session, Job, job_id)
            if job.status == "failed":
                awarding.retry_job(session, session.get(Organisation, job.organisation_id), job, actor=None,
                                   now=datetime.now(UTC))
                session.commit()
            elif job.status not in ("queued", "running"):
                raise click.ClickException(
                    f"job {job_id} is {job.status}; only a stopped or unfinished job continues"
                )
        status = follow(app, job_id, inline=inline, language=language)
    if status != "done":
        raise SystemExit(1)


def stop_reason(app: Flask, job: Any, language: str) -> str | None:
    """Return why a job stopped, in ``language`` (the coach page's words), or None."""
    from badges.web.coach import job_error

    with app.test_request_context(f"/?lang={language}"):
        return job_error(job)


def follow(app: Flask, public_id: str, *, inline: bool, language: str = "en") -> str:
    """Run or queue a job and show a progress bar until it ends; print a summary; return its status.

    ``inline`` (or no Redis queue) runs it in a thread of this process; otherwise it goes to
    the queue for ``badges worker``. Ctrl-C stops following: a queued job goes on in its
    worker, an inline one stops and is continued by ``badges jobs retry``.
    """
    from sqlalchemy import select

    from badges import jobs
    from badges.models import Job

    backend = jobs.backend(app)
    runner = None
    if inline or not isinstance(backend, jobs.QueueBackend):
        runner = threading.Thread(target=jobs.run_job, args=(app, public_id), name="badges-job", daemon=True)
        runner.start()
    else:
        backend.submit(public_id)
        if backend.workers() == 0:
            click.echo(f"No worker listens on queue '{backend.queue.name}': start `badges worker` "
                       "(the job waits in the queue), or use --inline.", err=True)
    started = time.monotonic()
    maker = app.extensions["badges.sessionmaker"]
    with maker() as session:
        job = session.scalar(select(Job).where(Job.public_id == public_id))
        shown = job.done
        try:
            with click.progressbar(length=job.total, label="Awarding", show_pos=True, show_percent=True) as bar:
                bar.update(shown)
                while True:
                    session.refresh(job)
                    bar.update(job.done - shown)
                    shown = job.done
                    ended = runner is not None and not runner.is_alive()
                    if ended or (runner is None and job.status not in jobs.RUNNABLE):
                        break  # an inline runner is done (or another runner holds the job)
                    time.sleep(0.2)
                session.refresh(job)
        except KeyboardInterrupt:
            if runner is None:
                click.echo(f"\nStopped following job {public_id} at {job.done} of {job.total}; the worker goes "
                           f"on (badges jobs show {public_id}).", err=True)
            else:
                click.echo(f"\nInterrupted job {public_id} at {job.done} of {job.total}; every award so far is "
                           f"complete. Continue with: badges jobs retry {public_id}", err=True)
            raise SystemExit(130) from None
        elapsed = time.monotonic() - started
        if job.status == "done":
            click.echo(f"Done: {job.done} of {job.total} awarded in {elapsed:.1f} s (job {public_id}).")
        elif job.status in jobs.RUNNABLE:
            click.echo(f"Job {public_id} is {job.status} in another process ({job.done} of {job.total}); "
                       f"see badges jobs show {public_id}.", err=True)
        else:
            click.echo(f"Stopped: {stop_reason(app, job, language)}", err=True)
            click.echo(f"{job.done} of {job.total} awarded before that, each complete. "
                       f"Correct the cause and run: badges jobs retry {public_id}", err=True)
        return job.status
