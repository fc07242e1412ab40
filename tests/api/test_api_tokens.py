"""Personal access tokens: made on the account page or with ``badges tokens``, shown once, stored hashed."""

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from badges import api_tokens
from badges.cli import main
from badges.models import ApiToken
from badges.web import utcnow

TOKEN = re.compile(r"op_[A-Za-z0-9_-]{43}")


def _create(client, **form):
    data = {"name": "Asiakastietojärjestelmä", "expires": "90", **form}
    return client.post("/account/api-tokens/", data=data)


def test_a_token_is_256_random_bits_with_a_recognisable_prefix_and_only_its_hash_is_kept(session, world):
    token, text = api_tokens.create_token(session, world.coach, name="x", scopes=["awards:read"], now=utcnow())
    assert TOKEN.fullmatch(text)
    assert token.token_hash == api_tokens.hash_token(text) != text and token.prefix == text[:10]
    other = api_tokens.new_token()
    assert other != text and len(set(api_tokens.new_token() for _ in range(100))) == 100
    session.commit()
    stored = session.execute(select(ApiToken.__table__)).mappings().all()
    assert all(text not in str(value) for row in stored for value in row.values())


def test_the_page_offers_only_what_the_roles_allow(app, world, login_as):
    coach, client = app.test_client(), app.test_client()
    login_as(coach, world.coach)
    login_as(client, world.maija)
    coach_page = coach.get("/account/api-tokens/").get_data(as_text=True)
    client_page = client.get("/account/api-tokens/").get_data(as_text=True)
    assert 'value="awards:write"' in coach_page and 'value="passport:read"' not in coach_page
    assert 'value="passport:read"' in client_page and 'value="awards:write"' not in client_page
    assert "/account/api-tokens/" in coach.get("/").get_data(as_text=True)  # the menu links to it


def test_creating_shows_the_token_once_and_it_works(app, api, session, world, login_as):
    browser = app.test_client()
    login_as(browser, world.coach)
    page = _create(browser, scopes=["awards:read", "badges:read"])
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    (text,) = TOKEN.findall(page.get_data(as_text=True))
    assert api.as_(text).get("/orgs/verstas/badges").status_code == 200
    assert api.as_(text).post("/awards", json={"badge": world.badge.public_id, "client": world.maija.public_id}
                              ).status_code == 403
    listing = browser.get("/account/api-tokens/").get_data(as_text=True)
    assert text not in listing and text[:10] in listing and "Asiakastietojärjestelmä" in listing
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == world.coach.id))
    assert token.scopes == "badges:read awards:read"
    assert timedelta(days=89) < token.expires_at - token.created_at <= timedelta(days=90)


def test_a_scope_beyond_the_roles_is_refused(app, session, world, login_as):
    browser = app.test_client()
    login_as(browser, world.maija)
    response = _create(browser, scopes=["awards:write"])
    assert response.status_code == 400
    assert session.scalar(select(ApiToken)) is None
    with pytest.raises(api_tokens.ApiError) as refused:
        api_tokens.create_token(session, world.maija, name="x", scopes=["awards:write"], now=utcnow())
    assert refused.value.code == "token_scope_not_allowed"


def test_a_name_and_a_scope_are_required(app, session, world, login_as):
    browser = app.test_client()
    login_as(browser, world.coach)
    assert _create(browser, name="", scopes=["awards:read"]).status_code == 400
    assert _create(browser, scopes=[]).status_code == 400
    assert session.scalar(select(ApiToken)) is None


def test_revoking_on_the_page_ends_the_token_at_once(app, api, session, world, make_token, login_as):
    text = make_token(world.coach)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(text)))
    browser = app.test_client()
    login_as(browser, world.coach)
    assert browser.post(f"/account/api-tokens/{token.public_id}/revoke").status_code == 302
    assert api.as_(text).get("/me").json["code"] == "token_revoked"


def test_another_persons_token_cannot_be_revoked(app, api, session, world, make_token, login_as):
    text = make_token(world.maija)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(text)))
    browser = app.test_client()
    login_as(browser, world.coach)
    assert browser.post(f"/account/api-tokens/{token.public_id}/revoke").status_code == 404
    assert api.as_(text).get("/me").status_code == 200


def test_the_page_needs_a_login(app, world):
    assert app.test_client().get("/account/api-tokens/").status_code == 302


# --- the command line ------------------------------------------------------------------------------------------


@pytest.fixture
def run(app):
    """Run ``badges …`` inside the test app's context (its database)."""
    def _run(*args: str):
        with app.app_context():
            return CliRunner().invoke(main, list(args), catch_exceptions=False)
    return _run


def test_cli_creates_lists_and_revokes(run, api, world):
    created = run("tokens", "create", "--user", "coach@example.test", "--scope", "awards:read", "--name", "CRM",
                  "--expires-days", "30")
    assert created.exit_code == 0
    (text,) = TOKEN.findall(created.stdout)
    assert created.stdout.strip() == text  # only the token on standard output, for scripts
    assert api.as_(text).get("/awards").status_code == 200
    listed = run("tokens", "list", "--user", "coach@example.test")
    assert "CRM" in listed.output and text[:10] in listed.output and text not in listed.output
    token_id = listed.output.split()[0]
    assert run("tokens", "revoke", token_id).exit_code == 0
    assert api.as_(text).get("/awards").json["code"] == "token_revoked"
    assert "revoked already" in run("tokens", "revoke", token_id).output


def test_cli_default_scopes_follow_the_roles(run, api, world):
    created = run("tokens", "create", "--user", "maija@example.test")
    (text,) = TOKEN.findall(created.stdout)
    assert api.as_(text).get("/me").json["scopes"] == list(api_tokens.CLIENT_SCOPES)


def test_cli_refuses_unknown_people_and_scopes_beyond_the_roles(run, world):
    assert run("tokens", "create", "--user", "nobody@example.test").exit_code == 1
    refused = run("tokens", "create", "--user", "maija@example.test", "--scope", "awards:write")
    assert refused.exit_code == 1 and "cannot create" in refused.output
    assert run("tokens", "revoke", "0" * 32).exit_code == 1
