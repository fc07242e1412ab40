"""``badges orgs create``: the operator starts an education provider with its first admin."""

from click.testing import CliRunner
from sqlalchemy import select

from badges import services
from badges.cli import main
from badges.models import Organisation
from helpers import PASSWORD


def test_create_an_education_provider_with_a_new_admin(session):
    result = CliRunner().invoke(main, [
        "orgs", "create", "--slug", "opisto", "--name", "Ammattiopisto Esimerkki", "--kind", "education_provider",
        "--email", "opisto@example.test", "--admin", "rehtori@example.test",
    ], input=f"{PASSWORD}\n{PASSWORD}\n", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Created opisto (education_provider)" in result.output
    organisation = session.scalar(select(Organisation).where(Organisation.slug == "opisto"))
    assert organisation.kind == "education_provider" and organisation.keys
    admin = services.find_user_by_email(session, "rehtori@example.test")
    assert services.roles_of(session, admin, organisation) == {"admin"}
    assert services.check_password(admin, PASSWORD)
    listed = CliRunner().invoke(main, ["orgs", "list"], catch_exceptions=False).output
    assert "opisto  education_provider  Ammattiopisto Esimerkki" in listed


def test_an_existing_person_becomes_admin_without_a_password_prompt(session, make_user):
    make_user("rehtori@example.test", "Riitta Rehtori")
    session.commit()
    result = CliRunner().invoke(main, ["orgs", "create", "--slug", "opisto", "--name", "Opisto",
                                       "--admin", "rehtori@example.test"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output


def test_bad_values_are_refused_plainly(session, make_org):
    make_org("verstas")
    session.commit()
    taken = CliRunner().invoke(main, ["orgs", "create", "--slug", "verstas", "--name", "X"])
    assert taken.exit_code != 0 and "taken" in taken.output and "Traceback" not in taken.output
    session.rollback()
    kind = CliRunner().invoke(main, ["orgs", "create", "--slug", "x", "--name", "X", "--kind", "school"])
    assert kind.exit_code == 2 and "education_provider" in kind.output
    short = CliRunner().invoke(main, ["orgs", "create", "--slug", "uusi", "--name", "Uusi", "--admin",
                                      "uusi@example.test"], input="lyhyt\nlyhyt\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    session.rollback()
    assert session.scalar(select(Organisation).where(Organisation.slug == "uusi")) is None
