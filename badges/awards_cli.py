"""``badges awards import``: award badges from a CSV file as a background job, with a progress bar."""

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask


@click.group("awards")
def awards_group() -> None:
    """Award badges in bulk."""


@awards_group.command("import")
@click.option("--org", "slug", required=True, help="The organisation's short name (slug).")
@click.option("--badge", default=None,
              help="The badge (id, catalogue reference or name) for rows that name none; "
                   "with it the file needs no badge column.")
@click.option("--by", "by_email", default=None,
              help="E-mail of the admin or coach who awards (recorded on each award and in the audit log).")
@click.option("--dry-run", is_flag=True, help="Only check the file; award nothing.")
@click.option("--inline", is_flag=True, help="Run the job in this process even when a Redis queue is configured.")
@click.option("--language", type=click.Choice(["fi", "sv", "en"]), default="en", show_default=True,
              help="Language of the problems reported.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
def import_command(
    slug: str, badge: str | None, by_email: str | None, dry_run: bool, inline: bool, language: str, file: Path
) -> None:
    """Award the badges listed in FILE (CSV: client, badge, evidence, observed), checked like the web upload.

    Every row is checked first; one bad row stops the import and nothing is awarded. The
    awards are then issued as a background job (by `badges worker` when Redis is configured)
    with a progress bar here. Exits with status 1 when the file has problems or the job stops.
    """
    from badges.worker_cli import cli_app

    with cli_app() as app:
        status = _import(app, slug=slug, badge=badge, by_email=by_email, dry_run=dry_run, inline=inline,
                         language=language, file=file)
    if status not in ("done", "checked"):
        sys.exit(1)


def _import(
    app: Flask, *, slug: str, badge: str | None, by_email: str | None, dry_run: bool, inline: bool, language: str,
    file: Path,
) -> str:
    """Check the file, then create the job and follow it; return the job's status ("checked" for a dry run)."""
    from badges import awarding, services
    from badges.db import get_session
    from badges.web.coach import problem_message
    from badges.worker_cli import follow

    now = datetime.now(UTC)
    with app.app_context():
        session = get_session()
        organisation = services.get_organisation(session, slug)
        by = None
        if by_email:
            by = services.find_user_by_email(session, by_email)
            if by is None or not services.roles_of(session, by, organisation) & {"admin", "coach"}:
                raise click.ClickException(f"{by_email} is not an admin or coach of {slug}")
        report = awarding.check_award_csv(
            session, organisation, file.read_bytes(), today=awarding.finnish_today(now), badge=badge
        )
        if report.problems:
            with app.test_request_context(f"/?lang={language}"):
                for problem in report.problems:
                    click.echo(f"{file}: {problem_message(problem)}", err=True)
            click.echo(f"{file}: {len(report.problems)} problem(s); nothing was awarded.", err=True)
            return "rejected"
        click.echo(f"{file}: {len(report.rows)} row(s) checked, all good.")
        if dry_run:
            return "checked"
        job = awarding.create_job(session, organisation, rows=report.rows, created_by=by, now=now, source="cli")
        session.commit()
        public_id = job.public_id
    return follow(app, public_id, inline=inline, language=language)
