"""Helpers of the performance-behaviour tests: counting SQL statements, failing verifiers."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from badges import sharing
from badges.models import Award, Share, User


@contextmanager
def counted_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL statements ``engine`` runs inside the block."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001 - SQLAlchemy event arguments
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def count_calls(monkeypatch, owner, name: str) -> list[int]:  # noqa: ANN001 - pytest's monkeypatch, a module
    """Wrap ``owner.name`` so that each call is counted (the call still happens); return the count list."""
    calls: list[int] = []
    real = getattr(owner, name)

    def counted(*args, **kwargs):  # noqa: ANN202 - whatever the real one returns
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def refuse(*_args, **_kwargs):  # noqa: ANN201 - never returns
    """Stand in for a proof verifier that a page must not call."""
    raise AssertionError("a page re-ran proof verification")


def make_share(session: Session, client: User, awards: Sequence[Award]) -> tuple[Share, str]:
    """Share ``awards`` with evidence for 30 days from the real today (the web layer's clock)."""
    now = datetime.now(UTC)
    share, token = sharing.create_share(
        session, client=client, scope="badges", purpose="Työkokeilu", now=now, recipient_label="TE-palvelut",
        award_ids=[a.public_id for a in awards], include_evidence=True,
        expires_on=(now + timedelta(days=30)).date(),
    )
    session.commit()
    return share, token
