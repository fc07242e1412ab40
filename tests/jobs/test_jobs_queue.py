"""Jobs on Redis (RQ): queued by the web process, run by workers, resumed after a restart or a kill."""

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

from helpers import BASE_URL, FIXED_NOW, REPO_ROOT
from jobs_helpers import (
    REDIS_URL,
    audit_count,
    award_count,
    check_awards,
    rows_for,
    slots_consistent,
    work_burst,
)
from rq import Queue
from sqlalchemy import update

from badges import awarding, jobs
from badges.models import Job
from badges.worker_cli import make_worker


def _job(session, bulk, count: int) -> Job:
    rows = rows_for(bulk.clients, bulk.badge.current, count)
    job = awarding.create_job(session, bulk.org, rows=rows, created_by=bulk.coach, now=FIXED_NOW, source="csv")
    session.commit()
    return job


def _messages(app) -> list[str]:
    return jobs.backend(app).queue.get_job_ids()


def test_with_redis_jobs_wait_in_the_queue_until_a_worker_runs_them(queue_app, session, bulk):
    assert isinstance(jobs.backend(queue_app), jobs.QueueBackend)
    job = _job(session, bulk, 6)
    jobs.enqueue(queue_app, job)
    session.refresh(job)
    assert job.status == "queued" and award_count(session) == 0  # the web process does not run it
    assert len(_messages(queue_app)) == 1 and job.public_id in _messages(queue_app)[0]
    assert work_burst(queue_app)
    session.refresh(job)
    assert job.status == "done" and job.done == 6
    check_awards(session, job)
    assert _messages(queue_app) == []


def test_a_message_delivered_twice_issues_each_award_once(queue_app, session, bulk):
    job = _job(session, bulk, 5)
    jobs.enqueue(queue_app, job)
    jobs.enqueue(queue_app, job)
    work_burst(queue_app)
    session.refresh(job)
    assert job.status == "done"
    check_awards(session, job)
    assert audit_count(session, "job.done", job.public_id) == 1


def test_a_worker_start_queues_unfinished_jobs_again_but_only_once(queue_app, session, bulk):
    # Redis lost its messages (or the web process could not reach it): the rows are the truth.
    waiting, interrupted = _job(session, bulk, 3), _job(session, bulk, 4)
    session.execute(update(Job).where(Job.id == interrupted.id).values(status="running", done=0))
    session.commit()
    assert jobs.resume(queue_app) == [waiting.public_id, interrupted.public_id]
    assert jobs.resume(queue_app) == [waiting.public_id, interrupted.public_id]
    assert len(_messages(queue_app)) == 2  # a job with a waiting message gets no second one
    work_burst(queue_app)
    for job in (waiting, interrupted):
        session.refresh(job)
        assert job.status == "done"
        check_awards(session, job)


def test_worker_maintenance_requeues_a_job_whose_worker_died(queue_app, session, bulk):
    job = _job(session, bulk, 4)
    alive = _job(session, bulk, 2)
    now = jobs.utcnow()
    session.execute(update(Job).where(Job.id == job.id).values(
        status="running", worker="gone:1:dead", heartbeat_at=now - timedelta(minutes=5)))
    session.execute(update(Job).where(Job.id == alive.id).values(
        status="running", worker="busy:2:beef", heartbeat_at=now + timedelta(minutes=5)))
    session.commit()
    make_worker(queue_app, name=f"{jobs.queue_name(queue_app)}-m").run_maintenance_tasks()  # every 30 s
    messages = _messages(queue_app)
    assert len(messages) == 1 and job.public_id in messages[0]  # the live worker's job is left to it
    assert jobs.requeue_abandoned(queue_app) == [job.public_id]
    assert len(_messages(queue_app)) == 1  # not queued twice
    work_burst(queue_app)
    session.refresh(job)
    assert job.status == "done" and job.worker != "gone:1:dead"
    check_awards(session, job)


def test_an_unreachable_redis_leaves_the_job_queued_for_a_worker_start(app, session, bulk, caplog):
    app.config.update(BADGES_JOBS_INLINE=False, BADGES_REDIS_URL="redis://127.0.0.1:9/0")
    app.extensions.pop("badges.jobs", None)
    job = _job(session, bulk, 2)
    with caplog.at_level(logging.ERROR, logger="badges.jobs"):
        jobs.enqueue(app, job)  # no exception reaches the coach's request
    assert "could not queue job" in caplog.text
    session.refresh(job)
    assert job.status == "queued" and award_count(session) == 0


def test_the_embedded_runner_is_kept_when_redis_serves_rate_limits_only(app):
    app.config.update(BADGES_JOBS_INLINE=False, BADGES_REDIS_URL=REDIS_URL, BADGES_JOBS_BACKEND="thread")
    app.extensions.pop("badges.jobs", None)
    assert isinstance(jobs.backend(app), jobs.ThreadBackend)


def _worker_env(app, queue: str, tmp_path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BADGES_", "REDIS_"))}
    env.update(
        BADGES_INSTANCE_PATH=str(tmp_path / "worker-instance"), BADGES_DATABASE_URL=app.config["BADGES_DATABASE_URL"],
        BADGES_KEK=app.config["BADGES_KEK"], BADGES_SECRET_KEY=app.config["SECRET_KEY"], BADGES_BASE_URL=BASE_URL,
        BADGES_REDIS_URL=REDIS_URL, BADGES_JOBS_QUEUE=queue, BADGES_JOBS_STALE_AFTER="2",
    )
    return env


def _worker(env: dict[str, str], log, *args: str) -> subprocess.Popen:
    """Start ``badges worker`` as a process of its own, its output going to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-c", "from badges.cli import main; main()", "worker", *args],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes_once(queue_app, session, bulk, redis_queue,
                                                                     tmp_path):
    connection, queue = redis_queue
    rows = 1000  # chunks of 20: caught after the first few, long before the end
    job = _job(session, bulk, rows)
    Queue(queue, connection=connection).enqueue_call(jobs.run_queued, args=(job.public_id,),
                                                     job_id=f"{queue}-{job.public_id}-first")
    env = _worker_env(queue_app, queue, tmp_path)
    log_path = tmp_path / "workers.log"
    log = log_path.open("w")
    first = _worker(env, log, "--name", f"{queue}-first")
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            session.refresh(job)
            if job.done > 0 or first.poll() is not None:
                break
            time.sleep(0.02)
        assert 0 < job.done < rows, (job.status, job.done, first.poll(), log_path.read_text())
        first.send_signal(signal.SIGKILL)  # no clean-up of any kind: its claim stays behind
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(30)
    session.refresh(job)
    assert job.status == "running" and job.worker is not None and job.done < rows

    # A restart: the new worker queues the job again and waits out the dead worker's claim.
    second = _worker(env, log, "--burst", "--name", f"{queue}-second")
    second.wait(600)
    log.close()
    output = log_path.read_text()
    assert second.returncode == 0, output
    session.refresh(job)
    assert job.status == "done" and job.done == rows, output
    check_awards(session, job)
    slots_consistent(session)
    assert audit_count(session, "job.done", job.public_id) == 1
