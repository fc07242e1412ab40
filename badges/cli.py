"""The ``badges`` command: set-up, demo data, serving, export, offline verification, keys."""

import json
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask

CLI_NAME = "badges"


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


def _app(check_secrets: bool = True) -> Flask:
    from badges import create_app

    return create_app(check_secrets=check_secrets)


def _site(app: Flask):  # noqa: ANN202 - Site
    from badges.core.keywrap import parse_kek
    from badges.services import Site

    return Site(base_url=app.config["BADGES_BASE_URL"], kek=parse_kek(app.config["BADGES_KEK"]))


class BadgesGroup(click.Group):
    """A click group that turns domain and set-up errors into one clear line, not a traceback."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201 - click's return type
        """Run the command, reporting known errors plainly."""
        from badges.core.errors import BadgesError

        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise  # --help and ctx.exit(): click's way to stop (a RuntimeError since click 8.2), no error
        except (BadgesError, RuntimeError) as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=BadgesGroup, help="Osaamispassi: Open Badges 3.0 competence passports.")
def main() -> None:
    """Run a badges command."""


@main.command("init")
def init_command() -> None:
    """Create the instance folder and its secrets, and migrate the database (idempotent)."""
    from badges import config, db
    from badges.core.keywrap import new_kek

    folder = config.instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    for name, make in ((config.SECRET_KEY_FILE, lambda: secrets.token_urlsafe(48)), (config.KEK_FILE, new_kek)):
        path = folder / name
        if not path.exists():
            # O_EXCL: never overwrite a secret; 0600: readable by the service account only
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(make() + "\n")
            click.echo(f"Created {path}")
    app = _app()
    with app.app_context():
        db.upgrade(app)
    click.echo(f"Database ready: {_redact(app.config['BADGES_DATABASE_URL'])}")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command("demo")
def demo_command() -> None:
    """Load the demo organisation, people, badges and awards (idempotent, marked as demo)."""
    from badges import demo
    from badges.db import get_session

    app = _app()
    with app.app_context():
        session = get_session()
        created = demo.load(session, _site(app), now=utcnow())
        session.commit()
    click.echo("Demo data loaded." if created else "Demo data already present.")
    click.echo("Demo logins (password: demo-password):")
    for email, role in demo.LOGINS:
        click.echo(f"  {email:<22} {role}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=None, type=int, help="Worker processes (default: one per core).")
def serve_command(host: str, port: int, workers: int | None) -> None:
    """Serve the app with gunicorn (sync workers, one per core)."""
    from gunicorn.app.base import BaseApplication

    from badges import weblog

    app = _app()
    weblog.log_to_stderr()  # one JSON line per request (the workers inherit the handler)

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers or os.cpu_count() or 1)
            self.cfg.set("worker_class", "sync")
            # No gunicorn access log: it shows raw paths (share tokens) and client addresses.
            # The app writes its own JSON line per request instead (badges.weblog).
            self.cfg.set("accesslog", None)
            self.cfg.set("timeout", 60)

        def load(self) -> Flask:
            return app

    click.echo(f"Serving Osaamispassi on http://{host}:{port}")
    Server().run()


@main.command("export")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the static copy into.")
def export_command(out_dir: Path) -> None:
    """Write every public document as static files laid out by URL path."""
    from badges import export
    from badges.db import get_session

    app = _app()
    with app.app_context():
        count = export.export_site(get_session(), _site(app), out_dir)
    click.echo(f"Wrote {count} files to {out_dir}")


@main.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--doc", "docs", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A DID/controller document or status list credential to use (repeatable).")
@click.option("--identity", default=None, help="Name or e-mail the holder gave, to match the recipient.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify_command(file: Path, docs: tuple[Path, ...], identity: str | None, as_json: bool) -> None:
    """Verify a credential (JSON, compact JWT, baked PNG or SVG) offline; exit 0 only if verified."""
    from badges import reader

    try:
        documents = reader.load_documents(docs)
        credential, kind = reader.read_credential_file(file)
    except reader.ReadError as error:
        click.echo(f"Cannot read: {error}", err=True)
        sys.exit(2)
    result = _verify_with_installation(credential, documents, identity)
    if as_json:
        click.echo(json.dumps({"format": kind, **result.to_json()}, indent=2, ensure_ascii=False))
    else:
        click.echo(f"Format: {kind}")
        for check in result.checks:
            click.echo(f"  [{check.outcome.upper():^7}] {check.name}: {check.message}")
        click.echo("VERIFIED" if result.verified else "NOT VERIFIED")
    sys.exit(0 if result.verified else 1)


def _verify_with_installation(credential, documents, identity):  # noqa: ANN001, ANN202
    """Use this installation's keys and status lists when it is set up; documents otherwise."""
    from badges import services
    from badges.core.contexts import static_loader
    from badges.core.verification import resolver_from_documents, verify_credential, verify_jwt

    try:
        app = _app()
    except RuntimeError:
        app = None
    if app is not None:
        from badges.db import get_session

        with app.app_context():
            try:
                return services.verify_document(
                    get_session(), _site(app), credential, now=utcnow(), identity=identity, documents=documents
                )
            except Exception:  # noqa: BLE001 - no database here: verify from the documents alone
                get_session().rollback()

    def resolve_status(url: str):  # noqa: ANN202
        return documents.get(url)

    verify = verify_jwt if isinstance(credential, str) else verify_credential
    return verify(
        credential, loader=static_loader(), resolve_key=resolver_from_documents(documents),
        resolve_status=resolve_status, now=utcnow(), identity=identity,
    )


@main.group("keys")
def keys_group() -> None:
    """Manage issuer signing keys."""


@keys_group.command("rotate")
@click.option("--org", "slug", required=True, help="The organisation's short name (slug).")
def keys_rotate(slug: str) -> None:
    """Make a new signing key; the old one is retired but keeps verifying what it signed."""
    from badges import services
    from badges.db import get_session

    app = _app()
    with app.app_context():
        session = get_session()
        organisation = services.get_organisation(session, slug)
        key = services.rotate_key(session, _site(app), organisation, now=utcnow())
        session.commit()
        click.echo(f"New active key for {slug}: {key.public_key_multibase}")


@keys_group.command("list")
@click.option("--org", "slug", required=True, help="The organisation's short name (slug).")
def keys_list(slug: str) -> None:
    """List an organisation's keys, newest last."""
    from badges import services
    from badges.db import get_session

    app = _app()
    with app.app_context():
        organisation = services.get_organisation(get_session(), slug)
        for key in organisation.keys:
            state = f"retired {key.retired_at:%Y-%m-%d}" if key.retired_at else "active"
            click.echo(f"{key.public_key_multibase}  created {key.created_at:%Y-%m-%d}  {state}")


from badges.frameworks_cli import frameworks_group  # noqa: E402 - command groups of their own modules
from badges.library_cli import criteria_group  # noqa: E402
from badges.backup_cli import backup_command, restore_command  # noqa: E402
from badges.tokens_cli import tokens_group  # noqa: E402
from badges.hosts_cli import hosts_group  # noqa: E402
from badges.awards_cli import awards_group  # noqa: E402
from badges.worker_cli import jobs_group, worker_command  # noqa: E402
from badges.orgs_cli import orgs_group  # noqa: E402

main.add_command(frameworks_group)
main.add_command(criteria_group)
main.add_command(backup_command)
main.add_command(restore_command)
main.add_command(tokens_group)
main.add_command(hosts_group)
main.add_command(awards_group)
main.add_command(worker_command)
main.add_command(jobs_group)
main.add_command(orgs_group)


def init_app(app: Flask) -> None:
    """Make the same commands available as ``flask --app badges …``."""
    for command in (init_command, demo_command, serve_command, export_command, verify_command, keys_group,
                    frameworks_group, criteria_group, tokens_group, hosts_group, awards_group, worker_command,
                    jobs_group, orgs_group, backup_command, restore_command):
        app.cli.add_command(command)
