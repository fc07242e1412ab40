"""``badges frameworks …``: import and fetch qualification framework data."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app, has_app_context


@click.group("frameworks")
def frameworks_group() -> None:
    """Import qualification frameworks (ePerusteet, osaamismerkit)."""


@contextmanager
def _session() -> Iterator[tuple[Flask, object]]:
    """Yield (app, session): the running app's under ``flask --app``, else a new app's."""
    from badges.db import get_session

    if has_app_context():
        yield current_app, get_session()
        return
    from badges import create_app

    app = create_app()
    with app.app_context():
        yield app, get_session()


def _now() -> datetime:
    return datetime.now(UTC)


def _run_one(session, label: str, work: Callable[[], object]) -> bool:  # noqa: ANN001 - Session
    """Import one document in its own transaction; print what happened; return False on failure."""
    from badges.core.eperusteet import FrameworkFormatError, NotFrameworkError
    from badges.frameworks import FetchError, qualification_label

    try:
        report = work()
    except NotFrameworkError as error:
        session.rollback()
        click.echo(f"{label}: skipped, not a framework file: {error}")
        return True
    except (FrameworkFormatError, FetchError) as error:
        session.rollback()
        click.echo(f"{label}: FAILED {error}", err=True)
        return False
    except OSError as error:
        session.rollback()
        click.echo(f"{label}: FAILED, file error: {error}", err=True)
        return False
    session.commit()
    qualification = report.qualification
    units = len(qualification.units)
    click.echo(f"{label}: {report.status} {qualification_label(qualification)} [{qualification.source_id}, "
               f"{report.shape}, {units} units]: {report.summary()}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
    return True


@frameworks_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def import_command(paths: tuple[Path, ...]) -> None:
    """Import ePerusteet / osaamismerkit JSON files; a folder means every .json file in it.

    Exits with status 1 if a framework file could not be read; files that are not framework
    data (scales, koodisto metadata, CSV) are reported and skipped.
    """
    from badges.frameworks import import_file

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json" and p.is_file())
            if not found:
                click.echo(f"{path}: no .json files in this folder")
            files.extend(found)
        else:
            files.append(path)
    ok = True
    with _session() as (_app, session):
        now = _now()
        for path in files:
            ok = _run_one(session, str(path), lambda path=path: import_file(session, path, now=now)) and ok
    if not ok:
        click.echo("Some files could not be imported; nothing of them was saved.", err=True)
        sys.exit(1)


@frameworks_group.command("fetch")
@click.option("--peruste", "peruste_ids", multiple=True, type=click.IntRange(min=1),
              help="ePerusteet peruste id to fetch (repeatable), e.g. 3932281.")
@click.option("--osaamismerkit", is_flag=True, help="Also fetch the national osaamismerkit.")
@click.option("--base-url", default=None, help="ePerusteet service address.  [default: the public service]")
@click.option("--cache", "cache_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Cache folder.  [default: instance/eperusteet-cache]")
@click.option("--refresh", is_flag=True, help="Fetch again even when a cached copy exists.")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(min=0.05, max=600),
              help="Seconds to wait for one complete answer.")
@click.option("--max-mb", default=64.0, show_default=True, type=click.FloatRange(min=0.001, max=1024),
              help="Largest answer accepted, in megabytes.")
def fetch_command(
    peruste_ids: tuple[int, ...], osaamismerkit: bool, base_url: str | None, cache_dir: Path | None,
    refresh: bool, timeout: float, max_mb: float,
) -> None:
    """Fetch perusteet (and osaamismerkit) from the ePerusteet public API, politely, then import them.

    At most 2 requests a second; answers are cached on disk and reused until --refresh.
    """
    from badges.frameworks import DEFAULT_BASE_URL, EperusteetClient, import_document

    if not peruste_ids and not osaamismerkit:
        raise click.UsageError("Give at least one --peruste ID, or --osaamismerkit.")
    ok = True
    with _session() as (app, session):
        client = EperusteetClient(
            base_url=base_url or DEFAULT_BASE_URL, cache_dir=cache_dir or Path(app.instance_path) / "eperusteet-cache",
            refresh=refresh, timeout=timeout, max_bytes=int(max_mb * 1024 * 1024),
        )
        jobs = [(f"peruste {pid}", lambda pid=pid: client.peruste(pid)) for pid in dict.fromkeys(peruste_ids)]
        if osaamismerkit:
            jobs.append(("osaamismerkit", client.osaamismerkit))
        now = _now()
        for label, fetch in jobs:
            def work(fetch=fetch, label=label):  # noqa: ANN202 - ImportReport
                fetched = fetch()
                if fetched.from_cache:
                    click.echo(f"{label}: using the cached copy (--refresh fetches again)")
                return import_document(session, fetched.data, now=now)

            ok = _run_one(session, label, work) and ok
        click.echo(f"{client.requests} request(s) to {client.base_url}")
    if not ok:
        sys.exit(1)
