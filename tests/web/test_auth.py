"""Logging in and out; languages; secrets."""

import pytest

from badges import create_app
from helpers import PASSWORD, login


def test_login_with_right_password_shows_the_dashboard(client, issued):
    response = login(client, "MAIJA@example.test ")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Puumateriaalien tunnistaminen" in page


def test_wrong_password_and_unknown_user_get_the_same_answer(client, issued):
    wrong = login(client, "maija@example.test", "wrong password")
    unknown = login(client, "nobody@example.test", "wrong password")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.get_data(as_text=True).count("error") == unknown.get_data(as_text=True).count("error")
    assert client.get("/").get_data(as_text=True).count("Puumateriaalien") == 0


def test_login_does_not_redirect_off_site(client, issued):
    response = client.post("/login?next=//evil.example/", data={"email": "maija@example.test", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_logout_needs_post(client, issued):
    login(client, "maija@example.test")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert "Puumateriaalien" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(("lang", "word"), [("fi", "Kirjaudu"), ("sv", "Logga in"), ("en", "Log in")])
def test_pages_speak_the_chosen_language(client, lang, word):
    page = client.get(f"/login?lang={lang}").get_data(as_text=True)
    assert f'lang="{lang}"' in page and word in page


def test_finnish_is_the_default_language(client):
    assert 'lang="fi"' in client.get("/login").get_data(as_text=True)


def test_app_refuses_to_start_without_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path))
    for name in ("BADGES_SECRET_KEY", "BADGES_KEK"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"BADGES_DATABASE_URL": "sqlite://"})


def test_behind_a_proxy_the_client_address_comes_from_the_proxy(app, monkeypatch):
    from flask import request

    from badges import create_app as make

    seen = {}
    proxied = make({**app.config, "BADGES_PROXIES": 1})

    @proxied.get("/_address")
    def address():
        seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
        return ""

    proxied.test_client().get("/_address", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "203.0.113.9", "scheme": "https"}
