"""Bulk awards from a CSV: the dry run names every bad row; jobs issue everything exactly once."""

import io
import json
import time
from datetime import timedelta

import pytest
from awarding_helpers import today
from awarding_helpers import sign_in
from helpers import FIXED_NOW
from sqlalchemy import func, select

from badges import awarding, jobs, services
from badges.models import AuditEvent, Award, EvidenceFile, Job, StatusList


def upload(client, content: str | bytes, slug: str = "verstas"):
    """Send a CSV file to the dry run."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(f"/org/{slug}/bulk?lang=en", data={"file": (io.BytesIO(data), "awards.csv", "text/csv")},
                       content_type="multipart/form-data")


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def fi_date(day) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def test_clean_csv_waits_for_a_start_then_issues_every_row(client, session, world):
    sign_in(client, world.coach)
    maija, matti, liisa = world.clients
    csv_text = (
        "\ufeffclient;badge;evidence;observed\r\n"
        f"maija@example.test;Puumateriaalien tunnistaminen;Tunnisti puulajit.;{today().isoformat()}\r\n"
        f"{matti.public_id};perustaidot/turvallisuus;;{fi_date(today() - timedelta(days=30))}\r\n"
        f"liisa laine;{world.badge.public_id};\"Monta riviä;\nja puolipiste\";\r\n"
    )
    response = upload(client, csv_text)
    assert response.status_code == 302
    job_url = response.headers["Location"]
    page = client.get(job_url + "?lang=en").get_data(as_text=True)
    assert "3 badges can be awarded" in page and "Liisa Laine" in page
    assert count(session, Award) == 0  # a dry run issues nothing

    job_id = job_url.rsplit("/", 1)[1]
    response = client.post(f"{job_url}/start")
    assert response.status_code == 302
    awards = {a.recipient_id: a for a in session.scalars(select(Award))}
    assert set(awards) == {maija.id, matti.id, liisa.id}
    assert json.loads(awards[liisa.id].document)["evidence"][0]["narrative"] == "Monta riviä;\nja puolipiste"
    assert "evidence" not in json.loads(awards[matti.id].document)
    assert awards[matti.id].achievement_version.achievement_id == world.badge2.id
    assert {a.idempotency_key for a in awards.values()} == {f"job:{job_id}:{i}" for i in range(3)}
    assert all(a.issued_by_id == world.coach.id for a in awards.values())

    state = client.get(f"{job_url}.json").get_json()
    assert state["status"] == "done" and state["done"] == state["total"] == 3 and state["finished"]
    assert client.get(f"{job_url}.json").headers["Cache-Control"] == "no-store"
    page = client.get(job_url + "?lang=en").get_data(as_text=True)
    assert "<progress" in page and "3 of 3" in page and "3 badges were awarded" in page
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.target == job_id)))
    assert actions == {"job.create", "job.done"}
    listed = client.get(f"/org/verstas/awards?job={job_id}&lang=en").get_data(as_text=True)
    assert "3 awards" in listed


def test_every_bad_row_is_reported_with_its_line_and_reason(client, session, world, make_user, make_badge):
    make_user("toinen.maija@example.test", "Maija Meikäläinen", organisation=world.org, role="client", password=None)
    retired = make_badge(world.org, name="Vanha merkki")
    retired.retired_at = FIXED_NOW
    session.commit()
    sign_in(client, world.coach)
    future = (today() + timedelta(days=2)).isoformat()
    csv_text = "\n".join([
        "client,badge,evidence,observed",                                 # 1
        "matti@example.test,Puumateriaalien tunnistaminen,Hyvin meni,",    # 2 good
        "nobody@example.test,Puumateriaalien tunnistaminen,,",            # 3
        "Maija Meikäläinen,Puumateriaalien tunnistaminen,,",              # 4 two clients have this name
        "matti@example.test,Ei tällaista merkkiä,,",                      # 5
        "matti@example.test,Vanha merkki,,",                              # 6
        "matti@example.test,Turvallinen työskentely,,31.2.2026",          # 7
        "matti@example.test,Turvallinen työskentely," + "x" * 1001 + ",",  # 8
        ",,,",                                                            # 9
        '"Liisa Laine","Turvallinen työskentely","kaksi',                 # 10 good (two lines)
        'riviä",',                                                        # 11
        f"matti@example.test,Turvallinen työskentely,,{future}",          # 12
        ",Turvallinen työskentely,,",                                     # 13
        "matti@example.test,,,",                                          # 14
        "matti@example.test,Turvallinen työskentely,a,,ylimääräinen",     # 15
        "Outi Muu,Vieras merkki,,",                                       # 16 the other organisation's
        "matti@example.test,Turvallinen työskentely,,2020-01-01",         # 17
        "",
    ]) + "\n"
    response = upload(client, csv_text)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    expected = [
        "Line 3: No client “nobody@example.test” in this organisation.",
        "Line 4: Several clients are called “Maija Meikäläinen”.",
        "Line 5: No badge “Ei tällaista merkkiä” in this organisation",
        "Line 6: The badge “Vanha merkki” is retired and cannot be awarded.",
        "Line 7: “31.2.2026” is not a date.",
        "Line 8: The evidence text is too long (1001 characters; at most 1000).",
        "Line 9: The row is empty.",
        f"Line 12: The date of observation {future} is in the future.",
        "Line 13: The client is missing.",
        "Line 14: The badge is missing.",
        "Line 15: The row has more cells than the header.",
        "Line 16: No client “Outi Muu” in this organisation.",
        "Line 16: No badge “Vieras merkki” in this organisation",
        "Line 17: The date of observation 2020-01-01 is more than a year back.",
    ]
    import html

    text = html.unescape(page)
    for line in expected:
        assert line in text, line
    assert text.count("<li>Line ") == len(expected)
    assert "2 rows are fine." in text and "14 problems must be corrected first" in text
    assert "Line 2:" not in text and "Line 10:" not in text
    assert count(session, Job) == 0 and count(session, Award) == 0
    assert "/start" not in page  # no way to issue


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("client;badge\nMatti Virtanen;Puu".encode("latin-1", "replace") + "ä".encode("latin-1"), "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
        ("client,badge\x00\nx,y\n", "not a readable CSV"),
        ("client,merkki_puuttuu\nmatti@example.test,x\n", "no column “badge”"),
        ("name,badge\nmatti@example.test,x\n", "no column “client”"),
        ("client,badge\n", "header row but no awards"),
        ("", "The file is empty."),
        ('client,badge\n"matti@example.test"x,"Puu\n', "not a readable CSV"),
        ("client,badge\n" + "matti@example.test,Turvallinen työskentely\n" * 5001, "too many rows (at most 5000)"),
    ],
    ids=["latin-1", "png", "nul", "no-badge-column", "no-client-column", "no-rows", "empty", "bad-quotes",
         "5001-rows"],
)
def test_unreadable_files_are_explained(client, session, world, content, message):
    sign_in(client, world.coach)
    response = upload(client, content)
    assert response.status_code == 400
    import html

    assert message in html.unescape(response.get_data(as_text=True))
    assert count(session, Job) == 0


def test_five_thousand_rows_are_accepted(session, world):
    rows = "client,badge\n" + "matti@example.test,Turvallinen työskentely\n" * 5000 + "\n\n"
    report = awarding.check_award_csv(session, world.org, rows.encode(), today=today())
    assert report.ok and len(report.rows) == 5000 and report.rows[-1]["line"] == 5001


def test_missing_file_is_explained(client, world):
    sign_in(client, world.coach)
    response = client.post("/org/verstas/bulk?lang=en", data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a CSV file." in response.get_data(as_text=True)


def _draft(client, session, world, rows: int = 5) -> str:
    clients = [c.email or c.display_name for c in world.clients]
    csv_text = "client,badge,evidence\n" + "".join(
        f"{clients[i % 3]},Turvallinen työskentely,rivi {i + 2}\n" for i in range(rows)
    )
    response = upload(client, csv_text)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def test_a_failing_row_stops_the_job_and_leaves_complete_rows_only(client, session, world, monkeypatch):
    sign_in(client, world.coach)
    job_url = _draft(client, session, world)
    real_issue = services.issue_award
    calls = {"n": 0}

    def issue_then_fail_on_third(*args, **kwargs):
        calls["n"] += 1
        award = real_issue(*args, **kwargs)  # signed, stored, status index taken …
        if calls["n"] == 3:
            raise RuntimeError("disk full")  # … and then the row fails
        return award

    monkeypatch.setattr(services, "issue_award", issue_then_fail_on_third)
    client.post(f"{job_url}/start")
    job = session.scalar(select(Job))
    session.refresh(job)
    assert job.status == "failed" and job.done == 2 and "line 4" in job.error
    assert count(session, Award) == 2  # rows 1-2 complete, row 3 rolled back entirely
    status_list = session.scalar(select(StatusList).where(StatusList.organisation_id == world.org.id))
    session.refresh(status_list)
    assert status_list.allocated == 2  # the failed row's status slot was not kept either
    page = client.get(job_url + "?lang=en").get_data(as_text=True)
    assert "Line 4:" in page and "Continue from where it stopped" in page
    assert client.get(f"{job_url}.json").get_json()["status"] == "failed"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "job.failed"))

    monkeypatch.setattr(services, "issue_award", real_issue)
    client.post(f"{job_url}/retry")
    session.refresh(job)
    assert job.status == "done" and job.done == 5
    keys = sorted(session.scalars(select(Award.idempotency_key)))
    assert keys == sorted(f"job:{job.public_id}:{i}" for i in range(5))


def test_a_crashed_job_resumes_without_duplicates(app, session, world, monkeypatch):
    rows = [{"line": i + 2, "client": world.clients[i % 3].public_id, "version": world.badge.current.public_id,
             "note": None, "observed": None, "photo": None} for i in range(5)]
    job = awarding.create_job(session, world.org, rows=rows, created_by=world.coach, now=FIXED_NOW, source="csv")
    session.commit()
    real = awarding.process_award_row

    def crash_on_third(session_, site_, job_, index, *, now):
        if index == 2:
            raise KeyboardInterrupt  # the process dies mid-row (not an ordinary error)
        return real(session_, site_, job_, index, now=now)

    monkeypatch.setitem(jobs.HANDLERS, awarding.JOB_KIND_AWARDS, crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        jobs.run_job(app, job.public_id)
    session.refresh(job)
    assert job.status == "running" and job.done == 2 and count(session, Award) == 2
    assert jobs.unfinished(app) == [job.public_id]

    monkeypatch.setitem(jobs.HANDLERS, awarding.JOB_KIND_AWARDS, real)
    assert jobs.resume(app) == [job.public_id]
    session.refresh(job)
    assert job.status == "done" and count(session, Award) == 5

    # Even a runner that forgot its progress issues nothing twice.
    job.status, job.done = "queued", 0
    session.commit()
    assert jobs.run_job(app, job.public_id) == "done"
    assert count(session, Award) == 5


def test_the_embedded_thread_runner_finishes_a_job(app, session, world):
    rows = [{"line": i + 2, "client": c.public_id, "version": world.badge2.current.public_id, "note": "ok",
             "observed": None, "photo": None} for i, c in enumerate(world.clients)]
    job = awarding.create_job(session, world.org, rows=rows, created_by=world.admin, now=FIXED_NOW, source="csv")
    session.commit()
    runner = jobs.ThreadBackend(app)
    try:
        runner.submit(job.public_id)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            session.expire_all()
            if session.get(Job, job.id).status in ("done", "failed"):
                break
            time.sleep(0.05)
    finally:
        runner.stop(timeout=60)  # no worker may outlive the test's database
    assert not runner.thread.is_alive() and runner.thread.daemon
    assert session.get(Job, job.id).status == "done" and count(session, Award) == 3


def test_jobs_are_seen_only_by_staff_of_their_organisation(client, session, world):
    sign_in(client, world.coach)
    job_url = _draft(client, session, world, rows=2)
    for person, status in ((world.admin, 200), (world.coach2, 200), (world.other_coach, 404),
                           (world.clients[0], 404)):
        sign_in(client, person)
        assert client.get(job_url).status_code == status
        assert client.get(f"{job_url}.json").status_code == status
    sign_in(client, world.other_coach)
    assert client.post(f"{job_url}/start").status_code == 404
    sign_in(client, world.coach2)  # staff, but not the person who uploaded it
    assert client.post(f"{job_url}/start").status_code == 403
    assert count(session, Award) == 0
    sign_in(client, world.admin)
    assert client.post(f"{job_url}/discard").status_code == 302
    assert count(session, Job) == 0


def test_draft_rows_are_checked_again_at_the_start(client, session, world):
    sign_in(client, world.coach)
    job_url = _draft(client, session, world, rows=2)
    world.badge2.retired_at = FIXED_NOW
    session.commit()
    response = client.post(f"{job_url}/start")
    assert response.status_code == 302
    session.expire_all()
    assert session.scalar(select(Job)).status == awarding.DRAFT and count(session, Award) == 0


def test_orphaned_photos_and_stale_drafts_are_cleaned_up(session, world, site):
    old = FIXED_NOW - timedelta(days=2)
    maija = world.clients[0]

    def photo(created_at):
        item = EvidenceFile(organisation_id=world.org.id, subject_id=maija.id, mimetype="image/jpeg",
                            content=b"jpeg", created_at=created_at)
        session.add(item)
        session.flush()
        return item

    orphan, fresh, attached, queued = photo(old), photo(FIXED_NOW), photo(old), photo(old)
    awarding.award_one(session, site, world.org, version=world.badge.current, recipient=maija, key="k1",
                       now=FIXED_NOW, photo=attached)
    awarding.create_job(session, world.org, rows=[{"line": 2, "client": maija.public_id, "photo": queued.public_id,
                                                    "version": world.badge.current.public_id}],
                        created_by=world.coach, now=old, source="group")
    draft = awarding.create_job(session, world.org, rows=[], created_by=world.coach, now=old, source="csv",
                                status=awarding.DRAFT)
    session.commit()
    ids = {orphan.public_id, fresh.public_id, attached.public_id, queued.public_id}
    assert awarding.delete_orphans(session, now=FIXED_NOW) == 1
    session.commit()
    left = set(session.scalars(select(EvidenceFile.public_id)))
    assert left == ids - {orphan.public_id}
    assert session.scalar(select(Job).where(Job.public_id == draft.public_id)) is None


def test_example_file_has_the_right_header(client, world):
    sign_in(client, world.coach)
    response = client.get("/org/verstas/bulk/template.csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).lstrip("\ufeff").startswith("client;badge;evidence;observed")
