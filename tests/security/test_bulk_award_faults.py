"""Reliability: a fault in the middle of a bulk award leaves every award complete (signed, stored,
in its status slot, audited) or absent, and continuing the job finishes it without duplicates."""

import json
from datetime import UTC, datetime

import pytest
from helpers import FIXED_NOW
from security_helpers import db
from sqlalchemy import event, select

from badges import awarding, jobs, services
from badges.core.statuslist import decode_list, get_bit
from badges.models import AuditEvent, Award, Job, Organisation, StatusList, User

ROWS = 12
#: Small chunks, so that a fault can fall in the middle of a chunk and between chunks.
CHUNK = 4


@pytest.fixture
def bulk_job(app, people, monkeypatch) -> str:
    """A queued bulk job of ROWS awards to the organisation's two clients."""
    monkeypatch.setattr(jobs, "chunk_size", lambda total: CHUNK, raising=False)
    with db(app) as session:
        organisation = session.scalar(select(Organisation))
        coach = session.scalar(select(User).where(User.public_id == people.coach))
        clients = [session.scalar(select(User).where(User.public_id == p)) for p in (people.client, people.paperless)]
        badge = services.create_achievement(session, organisation, name="Turvallinen työskentely",
                                            description="Osaa.", criteria="Osaa toimia turvallisesti.",
                                            image_alt="Merkki", now=FIXED_NOW)
        rows = [{"line": i + 2, "client": clients[i % 2].public_id, "version": badge.current.public_id,
                 "note": f"rivi {i + 2}", "observed": None, "photo": None} for i in range(ROWS)]
        job = awarding.create_job(session, organisation, rows=rows, created_by=coach, now=FIXED_NOW, source="csv")
        session.commit()
        return job.public_id


def _job(app, public_id: str) -> Job:  # noqa: ANN001
    with db(app) as session:
        return session.scalar(select(Job).where(Job.public_id == public_id))


def _job_awards(app, public_id: str) -> list[Award]:  # noqa: ANN001
    with db(app) as session:
        return list(session.scalars(select(Award).where(Award.idempotency_key.startswith(f"job:{public_id}:"))))


def assert_every_award_complete(app, site) -> int:  # noqa: ANN001
    """Check every award in the database: signed and verifiable, in its own status slot, the slot
    counted, the bit right, the issue audited. Return how many awards there are."""
    now = datetime.now(UTC)
    with db(app) as session:
        awards = list(session.scalars(select(Award)))
        for award in awards:
            document = json.loads(award.document)
            result = services.verify_document(session, site, document, now=now)
            assert result.verified, (award.public_id, result.to_json())
            entry = document["credentialStatus"]
            assert int(entry["statusListIndex"]) == award.status_index
            assert entry["statusListCredential"] == site.status_url(award.status_list.public_id)
        slots = [(award.status_list_id, award.status_index) for award in awards]
        assert len(slots) == len(set(slots)), "two awards share a status slot"
        for status_list in session.scalars(select(StatusList)):
            handed_out = {(status_list.multiplier * n + status_list.offset) % status_list.size
                          for n in range(status_list.allocated)}
            used = {index for list_id, index in slots if list_id == status_list.id}
            assert used == handed_out, "a status slot was handed out without an award, or the reverse"
            signed_bits = decode_list(json.loads(status_list.document)["credentialSubject"]["encodedList"])
            assert signed_bits == bytes(status_list.bits)
        for award in awards:
            assert get_bit(bytes(award.status_list.bits), award.status_index) == (award.revoked_at is not None)
        audited = set(session.scalars(select(AuditEvent.target).where(AuditEvent.action == "award.issue")))
        assert audited == {award.public_id for award in awards}
        keys = [award.idempotency_key for award in awards if award.idempotency_key]
        assert len(keys) == len(set(keys))
        return len(awards)


def _failing(real, *, after: int, times: int | None, error: BaseException):  # noqa: ANN001, ANN202
    """Wrap ``real``: calls after the first ``after`` raise ``error`` (``times`` of them, or all)."""
    calls = {"n": 0, "failed": 0}

    def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls["n"] += 1
        if calls["n"] > after and (times is None or calls["failed"] < times):
            calls["failed"] += 1
            raise error
        return real(*args, **kwargs)

    return wrapper


def test_a_signing_failure_that_passes_leaves_a_finished_job(app, site, bulk_job, monkeypatch):
    monkeypatch.setattr(services, "sign_document",
                        _failing(services.sign_document, after=6, times=1, error=RuntimeError("HSM busy")))
    assert jobs.run_job(app, bulk_job) == "done"
    assert assert_every_award_complete(app, site) == ROWS + 1  # and the fixture's own award
    assert len(_job_awards(app, bulk_job)) == ROWS


@pytest.mark.parametrize("after", [0, 5, 6, 8])
def test_a_lasting_signing_failure_stops_the_job_with_complete_awards_only(app, site, bulk_job, monkeypatch, after):
    real = services.sign_document
    monkeypatch.setattr(services, "sign_document", _failing(real, after=after, times=None,
                                                            error=RuntimeError("signing failed")))
    assert jobs.run_job(app, bulk_job) == "failed"
    job = _job(app, bulk_job)
    assert job.done == len(_job_awards(app, bulk_job)) < ROWS
    assert f"line {job.done + 2}" in job.error
    assert_every_award_complete(app, site)

    monkeypatch.setattr(services, "sign_document", real)  # the fault is mended; the coach continues
    with db(app) as session:
        awarding.retry_job(session, session.scalar(select(Organisation)), session.get(Job, job.id), actor=None,
                           now=datetime.now(UTC))
        session.commit()
    assert jobs.run_job(app, bulk_job) == "done"
    assert len(_job_awards(app, bulk_job)) == ROWS
    assert assert_every_award_complete(app, site) == ROWS + 1


@pytest.mark.parametrize("after", [2, 5, 9])
def test_a_crash_mid_job_leaves_complete_awards_and_resumes_without_duplicates(app, site, bulk_job, monkeypatch, after):
    real = services.sign_document
    monkeypatch.setattr(services, "sign_document", _failing(real, after=after, times=1, error=KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):  # the worker process dies in the middle of signing
        jobs.run_job(app, bulk_job)
    job = _job(app, bulk_job)
    assert job.status == "running" and job.done == len(_job_awards(app, bulk_job)) < ROWS
    assert_every_award_complete(app, site)

    assert jobs.resume(app) == [bulk_job]
    assert _job(app, bulk_job).status == "done"
    assert len(_job_awards(app, bulk_job)) == ROWS
    assert assert_every_award_complete(app, site) == ROWS + 1


def test_a_failure_after_signing_before_storing_leaves_nothing_half_written(app, site, bulk_job):
    """The database refuses to store signed awards (disk full) from the third INSERT on."""
    engine = app.extensions["badges.engine"]
    inserts = {"n": 0}

    def refuse(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202, PLR0913
        if statement.lstrip().upper().startswith("INSERT INTO AWARD "):
            inserts["n"] += 1
            if inserts["n"] >= 3:
                raise OSError("disk full")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        assert jobs.run_job(app, bulk_job) == "failed"
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    done = _job(app, bulk_job).done
    assert inserts["n"] >= 3 and 0 < done < ROWS and len(_job_awards(app, bulk_job)) == done
    assert assert_every_award_complete(app, site) == done + 1
    with db(app) as session:
        awarding.retry_job(session, session.scalar(select(Organisation)),
                           session.scalar(select(Job).where(Job.public_id == bulk_job)), actor=None,
                           now=datetime.now(UTC))
        session.commit()
    assert jobs.run_job(app, bulk_job) == "done"
    assert assert_every_award_complete(app, site) == ROWS + 1
