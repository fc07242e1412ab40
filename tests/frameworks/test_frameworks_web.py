"""Browsing and searching frameworks in the UI: who may, what they see, the JSON endpoint."""

import copy
from datetime import timedelta

import pytest
from helpers import BASE_URL, FIXED_NOW, login

from badges import create_app, frameworks
from badges.db import get_engine
from badges.models import Base

PAGES = [
    "/frameworks",
    "/frameworks?q=puu",
    "/frameworks/3932281",
    "/frameworks/3932281/units/tutkinnonosat_105444",
]


# --- who may browse --------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login(client, imported):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path


def test_anonymous_json_search_gets_401_json(client, imported):
    response = client.get("/frameworks/search.json?q=puu")
    assert response.status_code == 401
    assert response.get_json()["error"] == "http_401"


def test_clients_get_404(client, session, make_org, make_user, imported):
    make_user("client@example.test", "Sanni Asiakas", organisation=make_org(), role="client")
    session.commit()
    login(client, "client@example.test")
    for path in [*PAGES, "/frameworks/search.json?q=puu"]:
        assert client.get(path).status_code == 404, path


def test_people_without_any_role_get_404(client, session, make_user, imported):
    make_user("nobody@example.test", "Ei Roolia")
    session.commit()
    login(client, "nobody@example.test")
    assert client.get("/frameworks").status_code == 404


@pytest.mark.parametrize("role", ["coach", "admin"])
def test_admins_and_coaches_may_browse(client, session, make_org, make_user, imported, role):
    make_user(f"{role}@example.test", "Henkilö", organisation=make_org(), role=role)
    session.commit()
    login(client, f"{role}@example.test")
    for path in PAGES:
        assert client.get(path).status_code == 200, path


def test_staff_of_any_organisation_sees_the_same_national_data(client, session, make_org, make_user, imported):
    make_org()
    other = make_org("toinen", "Toinen Säätiö")
    make_user("other@example.test", "Olli Muualta", organisation=other, role="coach")
    session.commit()
    login(client, "other@example.test")
    page = client.get("/frameworks").get_data(as_text=True)
    assert "Puuteollisuuden perustutkinto" in page


# --- what they see -----------------------------------------------------------------------------------


def test_list_shows_names_diary_numbers_and_unit_counts(coach_client):
    page = coach_client.get("/frameworks").get_data(as_text=True)
    assert "Puuteollisuuden perustutkinto" in page
    assert "OPH-2455-2017" in page
    assert "Osaamismerkit (Opetushallitus)" in page
    assert 'href="/frameworks/3932281"' in page
    assert "<td>6</td>" in page  # the six demo osaamismerkit


@pytest.mark.parametrize(("path", "expected"), [
    ("/frameworks?lang=sv", ["Grundexamen inom träindustrin", "Testgrunder 2019"]),
    ("/frameworks?lang=en", ["Vocational Qualification in the Wood Industry"]),
    # The demo osaamismerkit have no English names: the Finnish one is shown, marked as Finnish.
    ("/frameworks/osaamismerkit?lang=en", ['<td lang="fi"><a href="/frameworks/osaamismerkit/units/osaamismerkit_1000">Oma osaaminen']),
])
def test_pages_speak_the_readers_language_with_finnish_fallback(coach_client, path, expected):
    page = coach_client.get(path).get_data(as_text=True)
    for text in expected:
        assert text in page


def test_qualification_page_lists_units_with_code_and_points(coach_client):
    page = coach_client.get("/frameworks/3932281").get_data(as_text=True)
    assert "Puutuotevalmistuksessa toimiminen" in page
    assert "tutkinnonosat_105444" in page
    assert "<td>45</td>" in page
    assert "<td>20</td>" in page
    assert 'href="/frameworks/3932281/units/tutkinnonosat_105438"' in page


def test_unit_page_shows_requirements_keys_and_criteria_per_level(coach_client):
    page = coach_client.get("/frameworks/3932281/units/tutkinnonosat_105444?lang=en").get_data(as_text=True)
    assert "Opiskelija käyttää puuteollisuuden materiaaleja ja jatkojalosteita." in page
    assert 'id="req-ammattitaitovaatimukset_414"' in page
    for level in ("T1 – Satisfactory", "H3 – Good", "K5 – Excellent"):
        assert level in page
    assert "tunnistaa yleisimmät puulajit ja levytuotteet" in page
    assert 'href="https://eperusteet.opintopolku.fi/#/fi/ammatillinen/3932281/tutkinnonosat/3944378"' in page
    assert "Opetushallitus" in page  # the source is named


def test_unit_page_marks_withdrawn_requirements(coach_client, session, demo_peruste):
    newer = copy.deepcopy(demo_peruste)
    newer["tutkinnonOsat"][0]["arviointi"]["arvioinninKohdealueet"].pop(1)  # 414 is gone
    frameworks.import_document(session, newer, now=FIXED_NOW + timedelta(days=1))
    session.commit()
    page = coach_client.get("/frameworks/3932281/units/tutkinnonosat_105444?lang=en").get_data(as_text=True)
    start = page.index('<li id="req-ammattitaitovaatimukset_414"')
    assert "is-withdrawn" in page[start:page.index(">", start)]
    assert "No longer in the framework since" in page[start:]
    assert "No longer in the framework" not in page[:start]
    assert page.index("ammattitaitovaatimukset_415") < page.index('id="req-ammattitaitovaatimukset_414"'), \
        "withdrawn requirements come last"


@pytest.mark.parametrize("path", [
    "/frameworks/999", "/frameworks/3932281/units/tutkinnonosat_1", "/frameworks/999/units/tutkinnonosat_105444",
    "/frameworks/9000001/units/tutkinnonosat_105444",
])
def test_unknown_frameworks_and_units_are_404(coach_client, path):
    assert coach_client.get(path).status_code == 404


def test_osaamismerkit_unit_page_has_no_requirements_yet(coach_client):
    page = coach_client.get("/frameworks/osaamismerkit/units/osaamismerkit_1002?lang=en").get_data(as_text=True)
    assert "Oma ajankäyttö" in page
    assert "No requirements are listed" in page
    assert "https://eperusteet.opintopolku.fi/#/fi/osaamismerkki/1002" in page


# --- search -----------------------------------------------------------------------------------------------


def test_search_shows_hits_with_their_unit_and_qualification(coach_client):
    page = coach_client.get("/frameworks?q=jatkojalosteita&lang=en").get_data(as_text=True)
    assert "1 match for" in page
    assert 'href="/frameworks/3932281/units/tutkinnonosat_105444#req-ammattitaitovaatimukset_414"' in page
    assert "Puutuotevalmistuksessa toimiminen" in page  # no English name: the Finnish one
    assert "Vocational Qualification in the Wood Industry" in page


def test_search_without_matches_says_so(coach_client):
    page = coach_client.get("/frameworks?q=avaruusalus&lang=en").get_data(as_text=True)
    assert "Nothing matched" in page
    assert "avaruusalus" in page


@pytest.mark.parametrize("query", ["a", "x" * 101])
def test_search_rejects_bad_lengths_next_to_the_field(coach_client, query):
    response = coach_client.get(f"/frameworks?q={query}&lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Type 2–100 characters." in page
    assert 'aria-invalid="true"' in page
    assert "Search results" not in page


def test_search_escapes_what_was_typed(coach_client):
    page = coach_client.get("/frameworks?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_search_form_works_with_csrf_enabled(tmp_path, kek_text, database_url, monkeypatch, session, staff, imported):
    """The search is a GET form: it changes nothing and needs no token even where CSRF is on."""
    session.commit()
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path / "instance-csrf"))
    strict = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "BADGES_KEK": kek_text, "BADGES_BASE_URL": BASE_URL, "BADGES_DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": True,
    })
    with strict.app_context():
        Base.metadata.create_all(get_engine())
    client = strict.test_client()
    # Logging in is a POST: without the token it is refused.
    assert client.post("/login", data={"email": "coach@example.test", "password": "x"}).status_code == 400
    form = client.get("/login").get_data(as_text=True)
    token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    from helpers import PASSWORD

    response = client.post("/login", data={"email": "coach@example.test", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "Puutuotevalmistuksessa" in client.get("/frameworks?q=puutuote").get_data(as_text=True)
    strict.extensions["badges.engine"].dispose()


# --- JSON for the badge editor ------------------------------------------------------------------------------


def test_json_search_returns_alignment_candidates(coach_client):
    data = coach_client.get("/frameworks/search.json?q=ammattitaitovaatimukset_414").get_json()
    assert data["query"] == "ammattitaitovaatimukset_414"
    assert data["results"] == [{
        "kind": "requirement",
        "key": "ammattitaitovaatimukset_414",
        "unit_code": "tutkinnonosat_105444",
        "text": "Opiskelija käyttää puuteollisuuden materiaaleja ja jatkojalosteita.",
        "unit_name": "Puutuotevalmistuksessa toimiminen",
        "qualification_name": "Puuteollisuuden perustutkinto (OPH-2455-2017)",
        "target_url": "https://eperusteet.opintopolku.fi/#/fi/ammatillinen/3932281/tutkinnonosat/3944378",
    }]


def test_json_search_gives_units_too_in_the_readers_language(coach_client):
    data = coach_client.get("/frameworks/search.json?q=Puupintojen&lang=sv").get_json()
    assert data["results"][0]["kind"] == "unit"
    assert data["results"][0]["key"] == "tutkinnonosat_105438"
    assert data["results"][0]["text"] == "Ytbehandling av trä"


def test_json_search_caps_results_at_20(coach_client, session):
    for n in range(25):
        frameworks.import_document(session, {
            "id": 8000000 + n, "nimi": {"fi": f"Peruste {n}"},
            "tutkinnonOsat": [{"id": n, "koodiUri": f"tutkinnonosat_{800000 + n}", "nimi": {"fi": f"Lumityöt {n}"},
                               "osanTyyppi": "tutkinnonosa"}],
        }, now=FIXED_NOW)
    session.commit()
    assert len(coach_client.get("/frameworks/search.json?q=lumityöt").get_json()["results"]) == 20


@pytest.mark.parametrize(("query", "status", "count"), [("", 200, 0), ("a", 200, 0), ("x" * 201, 400, None)])
def test_json_search_handles_empty_short_and_overlong_queries(coach_client, query, status, count):
    response = coach_client.get(f"/frameworks/search.json?q={query}")
    assert response.status_code == status
    if count is None:
        assert response.get_json()["error"] == "invalid_input"
    else:
        assert response.get_json()["results"] == []
