"""``badges tokens …``: create, list and revoke personal access tokens of the JSON API."""

import sys
from datetime import UTC, datetime, timedelta

import click

from badges.api_tokens import MAX_EXPIRY_DAYS, SCOPES
# The running app's session under ``flask --app``, else a new app's: the same as for frameworks.
from badges.frameworks_cli import _session


@click.group("tokens")
def tokens_group() -> None:
    """Manage personal access tokens of the JSON API (/api/v1)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _person(session, email: str):  # noqa: ANN001, ANN202 - Session, User
    from badges import services

    user = services.find_user_by_email(session, email.strip().lower())
    if user is None or not user.is_active:
        raise click.ClickException(f"no active account with the e-mail address {email}")
    return user


@tokens_group.command("create")
@click.option("--user", "email", required=True, help="The e-mail address of the token's person.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES),
              help="What the token may do (repeatable). Default: every scope the person's roles allow.")
@click.option("--name", default="command line", show_default=True, help="A name to recognise the token by.")
@click.option("--expires-days", type=click.IntRange(1, MAX_EXPIRY_DAYS), default=None,
              help="Days until the token expires. Default: it does not expire.")
def create_command(email: str, scopes: tuple[str, ...], name: str, expires_days: int | None) -> None:
    """Create a token and print it on standard output (it is shown only this once)."""
    from badges import api_tokens

    with _session() as (_app, session):
        user = _person(session, email)
        chosen = list(scopes) or api_tokens.allowed_scopes(session, user)
        now = _now()
        try:
            token, text = api_tokens.create_token(
                session, user, name=name, scopes=chosen, now=now,
                expires_at=now + timedelta(days=expires_days) if expires_days else None,
            )
        except api_tokens.ApiError as error:
            session.rollback()
            raise click.ClickException(f"cannot create the token: {error}") from None
        session.commit()
        expiry = f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "does not expire"
        click.echo(f"Token {token.public_id} for {email} ({token.scopes}; {expiry}). Shown only once:", err=True)
        click.echo(text)


@tokens_group.command("list")
@click.option("--user", "email", required=True, help="The e-mail address of the tokens' person.")
def list_command(email: str) -> None:
    """List a person's tokens: id, first characters, state, scopes, created, last used, name."""
    from badges import api_tokens

    with _session() as (_app, session):
        user = _person(session, email)
        now = _now()
        tokens = api_tokens.tokens_of(session, user)
        if not tokens:
            click.echo(f"{email} has no tokens.")
            return
        for token in tokens:
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            click.echo(f"{token.public_id}  {token.prefix}…  {api_tokens.token_state(token, now):<7}  "
                       f"created {token.created_at:%Y-%m-%d}  used {used}  [{token.scopes}]  {token.name}")


@tokens_group.command("revoke")
@click.argument("token_id")
def revoke_command(token_id: str) -> None:
    """Revoke the token TOKEN_ID (the id shown by ``badges tokens list``) at once."""
    from badges import api_tokens

    with _session() as (_app, session):
        token = api_tokens.find_token(session, token_id.strip())
        if token is None:
            click.echo(f"No token {token_id}.", err=True)
            sys.exit(1)
        already = token.revoked_at is not None
        api_tokens.revoke_token(session, token, now=_now())
        session.commit()
        click.echo(f"Token {token.public_id} ({token.name}) " + ("was revoked already." if already else "revoked."))
