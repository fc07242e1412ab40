"""``badges hosts …``: the allow-list of hosts whose issuer documents the verifier may fetch.

The verifier checks badges of other issuers only when their DID documents, keys and status
lists are on a host listed here (``did:key`` badges need nothing; this installation's own
issuers are read from the database). Fetches from listed hosts still go through the strict
limits of :mod:`badges.fetcher` (HTTPS only, no private addresses, timeouts, size caps).
"""

from datetime import UTC, datetime

import click


@click.group("hosts")
def hosts_group() -> None:
    """Manage the hosts whose issuer documents the verifier may fetch."""


@hosts_group.command("add")
@click.argument("host")
@click.option("--note", default=None, help="Why the host is trusted (e.g. the issuer's name).")
def add_command(host: str, note: str | None) -> None:
    """Allow the verifier to fetch issuer documents from HOST (a host name, or host:port)."""
    from badges import verifier
    from badges.frameworks_cli import _session

    with _session() as (_app, session):
        row = verifier.add_trusted_host(session, host, now=datetime.now(UTC), note=note)
        session.commit()
        click.echo(f"trusted: {row.host}" + (f"  ({row.note})" if row.note else ""))


@hosts_group.command("list")
def list_command() -> None:
    """List the trusted hosts."""
    from badges import verifier
    from badges.frameworks_cli import _session

    with _session() as (_app, session):
        rows = verifier.trusted_hosts(session)
        if not rows:
            click.echo("no trusted hosts: badges of other issuers are checked only when they use did:key")
        for row in rows:
            click.echo(f"{row.host}  added {row.created_at:%Y-%m-%d}" + (f"  {row.note}" if row.note else ""))


@hosts_group.command("remove")
@click.argument("host")
def remove_command(host: str) -> None:
    """Stop fetching issuer documents from HOST."""
    from badges import verifier
    from badges.frameworks_cli import _session

    with _session() as (_app, session):
        if not verifier.remove_trusted_host(session, host):
            raise click.ClickException(f"{host} is not on the list of trusted hosts")
        session.commit()
        click.echo(f"removed: {host}")
