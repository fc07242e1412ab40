"""Several OS processes award into one organisation, or race for one job, on SQLite and PostgreSQL."""

import multiprocessing

import pytest
from helpers import BASE_URL, FIXED_NOW
from jobs_helpers import (
    audit_count,
    award_count,
    award_in_process,
    check_awards,
    rows_for,
    run_job_in_process,
    slots_consistent,
)
from sqlalchemy import select

from badges import awarding
from badges.models import Award

PROCESSES = 3
TIMEOUT = 300


@pytest.fixture
def config(app, kek_text: str, tmp_path) -> dict:
    """What a child process needs to open the test's database with the same keys."""
    return {
        "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"], "BADGES_KEK": kek_text,
        "BADGES_BASE_URL": BASE_URL, "BADGES_DATABASE_URL": app.config["BADGES_DATABASE_URL"],
        "BADGES_JOBS_INLINE": True, "instance": str(tmp_path / "child-instance"),
    }


def _run_all(target, arguments: list[tuple]) -> None:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each: no inherited connections
    processes = [context.Process(target=target, args=args) for args in arguments]
    for process in processes:
        process.start()
    for process in processes:
        process.join(TIMEOUT)
    assert [process.exitcode for process in processes] == [0] * len(processes)


def test_processes_awarding_at_once_get_distinct_status_slots(app, session, bulk, config):
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    client_ids = [c.id for c in bulk.clients]
    # One process issues award by award (the single-award path), the others take runs of
    # slots as bulk jobs do; all into the same organisation's status list at the same time.
    batches = [1, 6, 15]
    counts = [8, 35, 40]
    _run_all(award_in_process, [
        (dict(config), bulk.org.id, bulk.badge.current.id, client_ids, worker, counts[worker], batches[worker], start)
        for worker in range(PROCESSES)
    ])
    assert award_count(session) == sum(counts)
    keys = list(session.scalars(select(Award.idempotency_key)))
    assert len(set(keys)) == len(keys) == sum(counts)
    slots_consistent(session)


def test_worker_processes_racing_for_one_job_process_it_once(app, session, bulk, config, clock):
    rows = rows_for(bulk.clients, bulk.badge.current, 40)
    job = awarding.create_job(session, bulk.org, rows=rows, created_by=bulk.coach, now=FIXED_NOW, source="csv")
    session.commit()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    results = context.Queue()
    _run_all(run_job_in_process, [(dict(config), job.public_id, start, results) for _ in range(2)])
    outcomes = sorted(results.get(timeout=10) for _ in range(2))
    # One claimed it; the others found it running (or, arriving late, already done).
    assert outcomes.count("done") >= 1 and set(outcomes) <= {"done", "running"}
    session.refresh(job)
    assert job.status == "done" and job.done == 40
    check_awards(session, job)
    slots_consistent(session)
    assert audit_count(session, "job.done", job.public_id) == 1
