"""``badges orgs …``: create organisations (issuers, incl. education providers that endorse) and list them.

An organisation's admin changes its profile and kind later on its settings page; these
commands are for the installation's operator, who starts a new organisation with its first admin.
"""

from datetime import UTC, datetime

import click

KINDS = ("workshop", "foundation", "education_provider")


@click.group("orgs")
def orgs_group() -> None:
    """Create and list organisations."""


@orgs_group.command("create")
@click.option("--slug", required=True, help="Short name in addresses and the DID (lower-case letters, digits, -).")
@click.option("--name", required=True, help="The organisation's name, shown in every badge.")
@click.option("--kind", type=click.Choice(KINDS), default="workshop", show_default=True,
              help="education_provider may endorse other organisations' badges.")
@click.option("--email", default=None, help="Contact e-mail address (OB 2.0 backpacks expect one).")
@click.option("--url", default=None, help="Web site (https://…).")
@click.option("--language", type=click.Choice(("fi", "sv", "en")), default="fi", show_default=True)
@click.option("--admin", "admin_email", default=None,
              help="E-mail of the first admin; a new account asks for its password.")
def create_command(slug: str, name: str, kind: str, email: str | None, url: str | None, language: str,
                   admin_email: str | None) -> None:
    """Create an organisation with its signing key, and optionally its first admin."""
    from badges import people, services
    from badges.cli import _site
    from badges.frameworks_cli import _session

    now = datetime.now(UTC)
    with _session() as (app, session):
        organisation = services.create_organisation(
            session, _site(app), slug=slug, name=name.strip(), kind=kind, email=email, url=url,
            language=language, now=now,
        )
        if admin_email:
            user = services.find_user_by_email(session, admin_email)
            if user is None:
                password = click.prompt(f"Password for the new account {admin_email}", hide_input=True,
                                        confirmation_prompt=True)
                people.check_password_rules(password)
                user = services.create_user(session, display_name=admin_email.split("@")[0], email=admin_email,
                                            password=password, now=now)
            services.add_member(session, user, organisation, "admin", now=now)
        session.commit()
        did = _site(app).issuer_did(organisation.slug)
        click.echo(f"Created {organisation.slug} ({organisation.kind}): {did}")
        if admin_email:
            click.echo(f"Admin: {admin_email}")


@orgs_group.command("list")
def list_command() -> None:
    """List the organisations: short name, kind and name."""
    from sqlalchemy import select

    from badges.frameworks_cli import _session
    from badges.models import Organisation

    with _session() as (_app, session):
        for organisation in session.scalars(select(Organisation).order_by(Organisation.slug)):
            click.echo(f"{organisation.slug}  {organisation.kind}  {organisation.name}")
