"""Bind the SQLAlchemy engine and one session per app context to Flask; run migrations."""

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def init_app(app: Flask) -> None:
    """Create the engine and session factory for ``app``."""
    url = app.config["BADGES_DATABASE_URL"]
    # hide_parameters: an error message (which may reach the log) never quotes bound values
    # such as e-mail addresses or token hashes.
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    app.extensions["badges.engine"] = engine
    app.extensions["badges.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)


def _sqlite_pragmas(connection, _record) -> None:  # noqa: ANN001 - DBAPI objects
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def get_engine() -> Engine:
    """Return the app's engine."""
    return current_app.extensions["badges.engine"]


def get_session() -> Session:
    """Return this app context's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["badges.sessionmaker"]()
    return g.db_session


def close_session(exc: BaseException | None = None) -> None:
    """Close the session; uncommitted work is rolled back."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def alembic_config(url: str):  # noqa: ANN201 - alembic type imported lazily
    """Return an Alembic config for the project's migrations and ``url``."""
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(app: Flask) -> None:
    """Migrate the database to the newest schema (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(app.config["BADGES_DATABASE_URL"]), "head")
