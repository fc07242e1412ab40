"""``badges awards import``, ``badges jobs …`` and ``badges worker`` from the command line."""

import threading
import time
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from helpers import BASE_URL
from jobs_helpers import REDIS_URL, audit_count, award_count, check_awards, work_burst
from sqlalchemy import select, update

from badges import awarding, create_app, jobs
from badges.cli import main
from badges.models import Award, Job


@pytest.fixture
def cli_env(app, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Point ``badges`` commands at the test's database, keys and instance folder (no Redis)."""
    for name in ("BADGES_REDIS_URL", "REDIS_URL", "BADGES_JOBS_BACKEND", "BADGES_JOBS_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path / "cli-instance"))
    monkeypatch.setenv("BADGES_DATABASE_URL", app.config["BADGES_DATABASE_URL"])
    monkeypatch.setenv("BADGES_KEK", app.config["BADGES_KEK"])
    monkeypatch.setenv("BADGES_SECRET_KEY", app.config["SECRET_KEY"])
    monkeypatch.setenv("BADGES_BASE_URL", BASE_URL)


def badges(*args: str):
    """Run a ``badges`` command and return its result."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _csv(tmp_path, text: str):
    path = tmp_path / "awards.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _good_csv(tmp_path, bulk, rows: int = 6) -> str:
    names = ["client0@example.test", "Asiakas 1", bulk.clients[2].public_id, "Liisa Laine"]
    return _csv(tmp_path, "asiakas;näyttö\n" + "".join(f"{names[i % 4]};rivi {i}\n" for i in range(rows)))


@pytest.mark.usefixtures("cli_env")
def test_import_checks_the_file_then_awards_every_row_with_a_summary(session, bulk, tmp_path):
    result = badges("awards", "import", "--org", "verstas", "--badge", bulk.badge.public_id,
                    "--by", "coach@example.test", _good_csv(tmp_path, bulk))
    assert result.exit_code == 0, result.output
    assert "6 row(s) checked, all good" in result.output
    assert "Done: 6 of 6 awarded" in result.output
    job = session.scalar(select(Job))
    assert job.status == "done" and job.payload["source"] == "cli"
    awards = check_awards(session, job)
    assert {a.issued_by_id for a in awards} == {bulk.coach.id}
    assert audit_count(session, "job.create", job.public_id) == 1


@pytest.mark.usefixtures("cli_env")
def test_import_reports_every_bad_row_in_the_chosen_language_and_awards_nothing(session, bulk, tmp_path):
    path = _csv(tmp_path, "client,badge,observed\nNobody,Puumateriaalien tunnistaminen,\n"
                          "Liisa Laine,Ei tällaista,\nLiisa Laine,Puumateriaalien tunnistaminen,31.2.2026\n")
    result = badges("awards", "import", "--org", "verstas", path)
    assert result.exit_code == 1
    assert "Line 2: No client “Nobody” in this organisation." in result.output
    assert "Line 3: No badge “Ei tällaista”" in result.output
    assert "Line 4: “31.2.2026” is not a date." in result.output
    assert "3 problem(s); nothing was awarded" in result.output
    assert session.scalar(select(Job)) is None and award_count(session) == 0
    finnish = badges("awards", "import", "--org", "verstas", "--language", "fi", path)
    assert finnish.exit_code == 1 and "Rivi 2" in finnish.output


@pytest.mark.usefixtures("cli_env")
def test_import_refuses_an_awarder_who_is_not_staff_and_an_unknown_organisation(session, bulk, tmp_path):
    path = _good_csv(tmp_path, bulk)
    result = CliRunner().invoke(main, ["awards", "import", "--org", "verstas", "--badge", bulk.badge.public_id,
                                       "--by", "client0@example.test", path])
    assert result.exit_code != 0 and "is not an admin or coach of verstas" in result.output
    result = CliRunner().invoke(main, ["awards", "import", "--org", "nowhere", path])
    assert result.exit_code != 0 and "nowhere" in result.output
    assert session.scalar(select(Job)) is None and award_count(session) == 0


@pytest.mark.usefixtures("cli_env")
def test_dry_run_only_checks(session, bulk, tmp_path):
    result = badges("awards", "import", "--org", "verstas", "--badge", bulk.badge.public_id, "--dry-run",
                    _good_csv(tmp_path, bulk))
    assert result.exit_code == 0 and "6 row(s) checked, all good" in result.output
    assert session.scalar(select(Job)) is None and award_count(session) == 0


@pytest.mark.usefixtures("cli_env")
def test_a_stopped_job_is_shown_and_continued_from_the_command_line(session, bulk, tmp_path):
    badges("awards", "import", "--org", "verstas", "--badge", bulk.badge.public_id, _good_csv(tmp_path, bulk))
    job = session.scalar(select(Job))
    # Pretend it stopped at row 3 (line 5) because the badge was retired meanwhile.
    session.execute(Award.__table__.delete().where(Award.idempotency_key.in_(
        [awarding.job_key(job, i) for i in range(3, 6)])))
    session.execute(update(Job).where(Job.id == job.id).values(
        status="failed", done=3, error="line 5: badge_retired: retired",
        payload={**job.payload, "failure": {"index": 3, "line": 5, "code": "badge_retired"}}))
    session.commit()

    listed = badges("jobs", "list", "--org", "verstas", "--status", "failed")
    assert job.public_id in listed.output and "3/6" in listed.output
    shown = badges("jobs", "show", job.public_id)
    assert "Status:    failed" in shown.output and "Line 5:" in shown.output and "retired" in shown.output

    result = badges("jobs", "retry", job.public_id)
    assert result.exit_code == 0, result.output
    assert "Done: 6 of 6 awarded" in result.output
    session.refresh(job)
    assert job.status == "done"
    check_awards(session, job)
    again = CliRunner().invoke(main, ["jobs", "retry", job.public_id])
    assert again.exit_code != 0 and "is done" in again.output


@pytest.mark.usefixtures("cli_env")
def test_worker_without_redis_runs_unfinished_jobs_from_the_database(session, bulk):
    rows = [{"line": i + 2, "client": c.public_id, "version": bulk.badge.current.public_id, "note": None,
             "observed": None, "photo": None} for i, c in enumerate(bulk.clients)]
    job = awarding.create_job(session, bulk.org, rows=rows, created_by=bulk.coach, now=datetime.now(UTC),
                              source="csv")
    session.commit()
    result = badges("worker", "--burst")
    assert result.exit_code == 0 and "running jobs from the database" in result.output
    assert f"Job {job.public_id}: done" in result.output
    session.refresh(job)
    check_awards(session, job)


@pytest.mark.usefixtures("cli_env")
def test_import_through_the_queue_shows_progress_until_a_worker_is_done(session, bulk, tmp_path, redis_queue,
                                                                       monkeypatch):
    _connection, queue = redis_queue
    monkeypatch.setenv("BADGES_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("BADGES_JOBS_QUEUE", queue)
    outcome = {}

    def run_import() -> None:
        outcome["result"] = badges("awards", "import", "--org", "verstas", "--badge", bulk.badge.public_id,
                                   _good_csv(tmp_path, bulk))

    importer = threading.Thread(target=run_import)
    importer.start()
    worker_app = create_app()
    try:
        deadline = time.monotonic() + 60
        while not jobs.backend(worker_app).queue.get_job_ids() and time.monotonic() < deadline:
            time.sleep(0.05)  # the import checked the file and queued its job; it now waits
        assert session.scalar(select(Job)).status == "queued"
        work_burst(worker_app)  # a worker (here in this process) picks it up
    finally:
        importer.join(60)
        worker_app.extensions["badges.engine"].dispose()
    result = outcome["result"]
    assert result.exit_code == 0, result.output
    assert "No worker listens on queue" in result.output  # none was running when it was queued
    assert "Done: 6 of 6 awarded" in result.output
    check_awards(session, session.scalar(select(Job)))
