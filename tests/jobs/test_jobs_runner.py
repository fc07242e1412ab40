"""The job runner: claims, heartbeats, take-overs, chunks that are all or nothing, exact failures."""

import json
import threading
from datetime import timedelta

import pytest
from helpers import FIXED_NOW
from jobs_helpers import audit_count, award_count, check_awards, photo_bytes, rows_for, slots_consistent
from sqlalchemy import select, update

from badges import awarding, jobs, services
from badges.core.contexts import static_loader
from badges.core.verification import verify_credential
from badges.models import Award, Job, Membership

pytestmark = pytest.mark.usefixtures("clock")


def _job(session, bulk, count: int, **row_options) -> Job:
    rows = rows_for(bulk.clients, bulk.badge.current, count, **row_options)
    job = awarding.create_job(session, bulk.org, rows=rows, created_by=bulk.coach, now=FIXED_NOW, source="csv")
    session.commit()
    return job


@pytest.fixture
def chunks_of_four(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue jobs four rows per transaction (real jobs do that from 200 rows up)."""
    monkeypatch.setattr(jobs, "chunk_size", lambda total: 4)


def test_chunks_are_a_fiftieth_of_a_job_between_one_row_and_the_maximum():
    assert [jobs.chunk_size(n) for n in (1, 5, 99, 250, 5_000, 100_000)] == [1, 1, 1, 5, 100, jobs.CHUNK_ROWS]


def _hold(session, job: Job, *, worker: str = "elsewhere:1:abcd", beat=FIXED_NOW) -> None:
    """Make the job look held by another runner whose last heartbeat was ``beat``."""
    session.execute(update(Job).where(Job.id == job.id).values(status="running", worker=worker, heartbeat_at=beat))
    session.commit()


@pytest.mark.usefixtures("chunks_of_four")
def test_large_job_is_issued_in_chunks_that_match_the_single_award_path(app, session, bulk, site):
    job = _job(session, bulk, 30, observed=FIXED_NOW.date())
    assert jobs.run_job(app, job.public_id) == "done"
    session.refresh(job)
    assert job.status == "done" and job.done == 30 and job.finished_at == FIXED_NOW
    awards = check_awards(session, job)
    slots_consistent(session)
    assert {a.recipient_id for a in awards} == {c.id for c in bulk.clients}
    assert {a.issued_by_id for a in awards} == {bulk.coach.id}
    assert audit_count(session, "job.done", job.public_id) == 1
    assert session.scalar(select(Award.id).where(Award.idempotency_key.is_(None))) is None

    # One award issued row by row (the single-award path) has exactly the same shape.
    single = awarding.award_one(session, site, bulk.org, version=bulk.badge.current, recipient=bulk.clients[0],
                                key="single", now=FIXED_NOW, issued_by=bulk.coach, note="Havaittu työssä.",
                                observed=FIXED_NOW.date())
    session.commit()
    chunked = next(a for a in awards if a.recipient_id == bulk.clients[0].id)
    one, many = json.loads(single.document), json.loads(chunked.document)
    for name in ("@context", "type", "issuer", "validFrom", "evidence"):
        assert one[name] == many[name], name
    for name in ("type", "achievement", "activityEndDate"):
        assert one["credentialSubject"][name] == many["credentialSubject"][name], name
    assert one["credentialStatus"]["statusListCredential"] == many["credentialStatus"]["statusListCredential"]
    for award in (single, chunked):
        result = services.verify_document(session, site, json.loads(award.document), now=FIXED_NOW)
        assert result.verified, result.to_json()


@pytest.mark.usefixtures("chunks_of_four")
def test_a_failing_row_in_a_chunk_stops_the_job_at_that_row_with_nothing_half_done(app, session, bulk):
    job = _job(session, bulk, 30)
    gone = bulk.clients[1]  # rows 1, 5, 9 … belong to this client; row 5 is line 7
    job.payload = {**job.payload, "rows": [
        {**row, "client": bulk.clients[0].public_id} if i < 5 and row["client"] == gone.public_id else row
        for i, row in enumerate(job.payload["rows"])
    ]}
    session.execute(Membership.__table__.delete().where(Membership.user_id == gone.id))
    session.commit()
    assert jobs.run_job(app, job.public_id) == "failed"
    session.refresh(job)
    assert job.done == 5 and job.error.startswith("line 7: unknown_client")
    assert job.payload["failure"] == {"index": 5, "line": 7, "code": "unknown_client"}
    assert award_count(session) == 5  # the first chunk, and row 4 only of the second: 6 and 7 were not kept
    slots_consistent(session)  # and no status slot of the rolled-back chunk stays taken
    assert audit_count(session, "job.failed", job.public_id) == 1

    # Once the client is back, the job continues where it stopped and issues each row once.
    services.add_member(session, gone, bulk.org, "client", now=FIXED_NOW)
    awarding.retry_job(session, bulk.org, job, actor=bulk.coach, now=FIXED_NOW)
    session.commit()
    assert jobs.run_job(app, job.public_id) == "done"
    check_awards(session, job)
    slots_consistent(session)


def test_a_job_held_by_a_live_runner_is_left_to_it(app, session, bulk):
    job = _job(session, bulk, 5)
    _hold(session, job)
    assert jobs.run_job(app, job.public_id, wait=False) == "running"
    session.refresh(job)
    assert job.worker == "elsewhere:1:abcd" and job.done == 0 and award_count(session) == 0


def test_a_holder_whose_heartbeat_moves_is_left_alone_by_a_waiting_runner(app, session, bulk, monkeypatch):
    job = _job(session, bulk, 5)
    _hold(session, job)
    beats = iter(FIXED_NOW + timedelta(seconds=n) for n in range(1, 100))

    def holder_makes_progress(seconds: float) -> None:  # instead of sleeping, the holder commits progress
        with app.extensions["badges.sessionmaker"]() as other:
            other.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=next(beats)))
            other.commit()

    monkeypatch.setattr(jobs.time, "sleep", holder_makes_progress)
    assert jobs.run_job(app, job.public_id) == "running"
    assert award_count(session) == 0


def test_a_dead_holder_is_taken_over_once_its_heartbeat_is_stale(app, session, bulk, monkeypatch):
    job = _job(session, bulk, 5)
    _hold(session, job, beat=FIXED_NOW)
    clock = {"now": FIXED_NOW}
    monkeypatch.setattr(jobs, "utcnow", lambda: clock["now"])

    def time_passes(seconds: float) -> None:
        clock["now"] += timedelta(seconds=seconds)

    monkeypatch.setattr(jobs.time, "sleep", time_passes)
    assert jobs.run_job(app, job.public_id) == "done"  # watched the heartbeat stand still, then took over
    assert clock["now"] - FIXED_NOW > timedelta(seconds=jobs.STALE_AFTER)
    session.refresh(job)
    assert job.worker != "elsewhere:1:abcd"
    check_awards(session, job)


def test_an_abandoned_job_found_later_is_taken_over_at_once(app, session, bulk):
    job = _job(session, bulk, 5)
    _hold(session, job, beat=FIXED_NOW - timedelta(minutes=5))
    assert jobs.run_job(app, job.public_id, wait=False) == "done"
    check_awards(session, job)


def test_a_runner_that_was_taken_over_stops_at_its_next_commit(app, session, bulk, monkeypatch):
    job = _job(session, bulk, 5)
    real = awarding.process_award_row

    def stall_then_lose_the_job(session_, site_, job_, index, *, now):
        if index == 1:  # this runner stalled before row 1; another took the job over meanwhile
            with app.extensions["badges.sessionmaker"]() as other:
                other.execute(update(Job).where(Job.id == job.id).values(worker="successor:2:ffff"))
                other.commit()
        return real(session_, site_, job_, index, now=now)

    monkeypatch.setitem(jobs.HANDLERS, awarding.JOB_KIND_AWARDS, stall_then_lose_the_job)
    assert jobs.run_job(app, job.public_id) == "running"
    session.refresh(job)
    assert job.done == 1 and job.worker == "successor:2:ffff" and job.status == "running"
    assert award_count(session) == 1  # the row it could not commit as the owner was rolled back
    slots_consistent(session)


@pytest.mark.usefixtures("chunks_of_four")
def test_an_interrupted_runner_releases_its_claim_so_a_restart_resumes_at_once(app, session, bulk, monkeypatch):
    job = _job(session, bulk, 30)
    real = awarding.process_award_rows
    calls = {"n": 0}

    def die_in_the_third_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # e.g. Ctrl-C, or a worker's cold shutdown
        return real(*args, **kwargs)

    monkeypatch.setitem(jobs.CHUNK_HANDLERS, awarding.JOB_KIND_AWARDS, die_in_the_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        jobs.run_job(app, job.public_id)
    session.refresh(job)
    assert (job.status, job.done, job.worker, job.heartbeat_at) == ("running", 8, None, None)
    assert award_count(session) == 8

    monkeypatch.setitem(jobs.CHUNK_HANDLERS, awarding.JOB_KIND_AWARDS, real)
    assert jobs.resume(app) == [job.public_id]
    check_awards(session, job)
    slots_consistent(session)


@pytest.mark.usefixtures("chunks_of_four")
def test_two_runners_started_together_process_a_job_once(app, session, bulk):
    job = _job(session, bulk, 30)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def run() -> None:
        start.wait()
        outcomes.append(jobs.run_job(app, job.public_id, wait=False))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sorted(outcomes) == ["done", "running"]  # one did the work, the other was turned away
    session.refresh(job)
    assert job.done == 30 and job.status == "done"
    check_awards(session, job)
    slots_consistent(session)
    assert audit_count(session, "job.done", job.public_id) == 1


def test_finished_and_missing_jobs_are_not_run(app, session, bulk):
    job = _job(session, bulk, 2)
    assert jobs.run_job(app, job.public_id) == "done"
    assert jobs.run_job(app, job.public_id) == "done"
    assert jobs.run_job(app, "0" * 32) == "missing"
    assert award_count(session) == 2


@pytest.mark.usefixtures("chunks_of_four")
def test_credentials_of_a_chunked_job_verify_with_the_independent_verifier(app, session, bulk, site, js_verify):
    job = _job(session, bulk, 30)
    jobs.run_job(app, job.public_id)
    awards = check_awards(session, job)
    sample = [json.loads(a.document) for a in awards[:: len(awards) // 5]]
    for document in sample:
        assert verify_credential(document, loader=static_loader(),
                                 resolve_key=services.local_key_resolver(session, site),
                                 resolve_status=services.local_status_resolver(session, site), now=FIXED_NOW).verified
    did = services.did_document(site, bulk.org)
    status_list = awards[0].status_list
    documents = {did["id"]: did, site.status_url(status_list.public_id): json.loads(status_list.document)}
    for result in js_verify.batch([(document, documents) for document in sample]):
        assert result["verified"], result["errors"]
        assert result["statusRevoked"] is False


def test_starting_a_draft_checks_every_row_again_and_names_the_lines(session, bulk, make_badge):
    other = make_badge(bulk.org, name="Vanha merkki")
    rows = rows_for(bulk.clients, bulk.badge.current, 6) + rows_for(bulk.clients[:1], other.current, 1)
    rows[-1]["line"] = 8
    job = awarding.create_job(session, bulk.org, rows=rows, created_by=bulk.coach, now=FIXED_NOW, source="csv",
                              status=awarding.DRAFT)
    session.commit()
    assert awarding.start_job(session, bulk.org, job, actor=bulk.coach, now=FIXED_NOW) == []
    session.rollback()

    gone = bulk.clients[1]  # rows 1 and 5: lines 3 and 7
    session.execute(Membership.__table__.delete().where(Membership.user_id == gone.id))
    other.retired_at = FIXED_NOW
    session.commit()
    job = session.get(Job, job.id)
    job.status = awarding.DRAFT
    problems = awarding.start_job(session, bulk.org, job, actor=bulk.coach, now=FIXED_NOW)
    assert [(p.line, p.code) for p in problems] == [(3, "unknown_client"), (7, "unknown_client"),
                                                    (8, "badge_retired")]
    assert job.status == awarding.DRAFT


@pytest.mark.usefixtures("chunks_of_four")
def test_chunks_mix_badges_with_and_without_expiry_and_a_photo_for_each_client(app, session, bulk, site, make_badge):
    lasting = make_badge(bulk.org, name="Vuoden merkki", valid_days=365)
    photo = awarding.store_photo(session, bulk.org, subject=bulk.clients[0], uploaded_by=bulk.coach,
                                 data=photo_bytes(), now=FIXED_NOW)
    rows = rows_for(bulk.clients, bulk.badge.current, 6) + rows_for(bulk.clients, lasting.current, 6)
    for row in rows[::3]:
        row["photo"] = photo.public_id
    job = awarding.create_job(session, bulk.org, rows=rows, created_by=None, now=FIXED_NOW, source="group")
    session.commit()
    assert jobs.run_job(app, job.public_id) == "done"
    awards = check_awards(session, job)
    expiring = [a for a in awards if a.valid_until is not None]
    assert len(expiring) == 6 and {a.valid_until for a in expiring} == {FIXED_NOW + timedelta(days=365)}
    assert all(a.issued_by_id is None and a.evidence_hidden is False for a in awards)
    with_photo = [json.loads(a.document) for a in awards if "/evidence/" in a.document]
    assert len(with_photo) == 4
    for document in with_photo:
        assert services.verify_document(session, site, document, now=FIXED_NOW).verified
