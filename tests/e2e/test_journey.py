"""The full journey in a real browser, driven through the forms by their labels.

Admin sets up the organisation → a coach awards a badge from a phone with a photo → the client
activates the account, sees progress and shares with an employer → the employer opens the link
(no account) and sees the badge verified → the client stops the share and the link dies.

The journey runs once per module (``journey``); every page it reaches is photographed,
checked with axe-core and at 320 px width, and the tests below assert on what was found.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from e2e_helpers import (
    DESKTOP,
    PHONE,
    LiveServer,
    Org,
    Recorder,
    english_context,
    link_in_mail,
    png,
    report,
    upload,
)
from helpers import PASSWORD
from playwright.sync_api import expect

COACH_EMAIL = "kalle.valmentaja@verstas.example"
CLIENT_NAME = "Maija Meikäläinen"
CLIENT_PASSWORD = "oma salasana kevät 2026"  # noqa: S105 - test password
BADGE_NAME = "Höyläkoneen turvallinen käyttö"
ADOPTED_NAME = "Working safely in the wood shop"
RECIPIENT = "Employer: Puuseppä Oy"


@dataclass
class Journey:
    """What the journey saw, for the assertions of the tests."""

    recorder: Recorder
    facts: dict[str, Any] = field(default_factory=dict)


def _login(page: Any, email: str, password: str) -> None:
    page.get_by_label("E-mail address or user name").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _admin_sets_up(page: Any, rec: Recorder, server: LiveServer, org: Org) -> dict[str, str]:
    """Admin: log in, issuer profile and logo, a badge of its own and one adopted, a coach, a client."""
    page.goto(server.url("/login"))
    rec.check(page, "admin-login")
    _login(page, org.admin_email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    rec.check(page, "admin-home")

    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name=org.name).click()
    rec.check(page, "admin-workspace")
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Website").fill("https://verstas.example.fi")
    page.get_by_label("Description").fill("Puutyöpaja, jossa opitaan ammatin perustaidot.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The profile was saved.")).to_be_visible()
    page.get_by_label("Logo image").set_input_files(upload("logo.png", png(400, 200, (11, 79, 121))))
    page.get_by_role("button", name="Upload the logo").click()
    expect(page.get_by_text("The logo was saved.")).to_be_visible()
    expect(page.get_by_role("img", name=f"Logo of {org.name}")).to_be_visible()
    rec.check(page, "admin-settings")

    # a badge of its own: texts, an uploaded image, an ePerusteet alignment; preview, then save
    menu.get_by_role("link", name=org.name).click()
    page.get_by_role("link", name="Badge library").first.click()
    rec.check(page, "admin-library")
    page.get_by_role("link", name="New badge").click()
    finnish = page.get_by_role("group", name=re.compile("^suomi"))
    finnish.get_by_label("Name").fill(BADGE_NAME)
    finnish.get_by_label("Description").fill("Osaa käyttää höyläkonetta turvallisesti.")
    finnish.get_by_label("Criteria").fill("Osaa säätää höyläkoneen ja käyttää sitä suojaimet paikallaan.")
    finnish.get_by_label("Alt text of the image").fill("Vihreä pyöreä merkki: höyläkone")
    page.get_by_label("Or upload an image (optional)").set_input_files(
        upload("merkki.png", png(512, 512, (29, 107, 58), label="HÖYLÄ")))
    page.get_by_label("Alignment codes").fill("ammattitaitovaatimukset_414")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Nothing is saved yet.")).to_be_visible()
    rec.check(page, "admin-badge-preview")
    page.get_by_role("button", name="Save the badge").click()
    expect(page.get_by_text("The badge was created.")).to_be_visible()
    expect(page.get_by_text("ammattitaitovaatimukset_414").first).to_be_visible()
    rec.check(page, "admin-badge-created")

    page.get_by_role("link", name="Badge library").first.click()
    page.get_by_role("link", name="Shared catalogue").click()
    rec.check(page, "admin-catalogue")
    # the same definition is in two catalogues: adopt it from the first
    page.get_by_role("button", name=re.compile(rf"^Adopt\W+{ADOPTED_NAME}$")).first.click()
    # the organisation writes in Finnish, so the badge is adopted with its Finnish texts
    expect(page.get_by_text("The badge “Turvallinen työskentely puutyöpajassa” was added")).to_be_visible()

    # a coach by invitation (the mail lands in the outbox folder) …
    page.goto(server.url(f"/org/{org.slug}/members"))
    page.get_by_label("E-mail address").fill(COACH_EMAIL)
    page.get_by_label("Role", exact=True).select_option(label="Coach")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text(f"An invitation was sent to {COACH_EMAIL}.")).to_be_visible()
    rec.check(page, "admin-invited-coach")

    # … and a client without e-mail, who gets an activation sheet
    page.get_by_role("link", name="Clients", exact=True).first.click()
    page.get_by_role("link", name="Add a client").click()
    page.get_by_label("Name").fill(CLIENT_NAME)
    page.get_by_label("Preferred language").select_option(label="English")
    rec.check(page, "admin-add-client")
    page.get_by_role("button", name="Add the client").click()
    expect(page.get_by_text(f"{CLIENT_NAME} was added as a client.")).to_be_visible()
    page.get_by_role("button", name="Make an activation sheet").click()
    code = page.locator(".activation-code").inner_text().strip()
    user_name = page.locator(".activation-login").inner_text().strip()
    rec.check(page, "admin-activation-sheet")
    return {
        "invitation": link_in_mail(server.outbox, COACH_EMAIL, server.base_url),
        "code": code, "user_name": user_name,
    }


def _coach_awards(page: Any, rec: Recorder, invitation: str, org: Org) -> None:
    """Coach, on a phone: accept the invitation, then award the badge with a photo (by touch)."""
    page.goto(invitation)
    rec.check(page, "coach-invitation")
    page.get_by_label("Your name").fill("Kalle Valmentaja")
    page.get_by_label(re.compile(r"^\s*Password\s*\(")).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create the account and accept").tap()
    expect(page.get_by_text(f"Welcome! Your account is ready and you joined {org.name}.")).to_be_visible()
    rec.check(page, "coach-home")

    page.get_by_role("link", name="Award a badge").first.tap()
    rec.check(page, "coach-award-form")
    page.get_by_label(BADGE_NAME).tap()
    page.get_by_label(CLIENT_NAME).tap()
    page.get_by_label("Note").fill("Säätö ja syöttö sujuivat, suojaimet paikallaan koko ajan.")
    page.get_by_label("Photo", exact=True).set_input_files(upload("tyo.png", png(1200, 900, (138, 44, 13))))
    page.get_by_role("button", name="Preview").tap()
    expect(page.get_by_role("heading", name="Check the award")).to_be_visible()
    expect(page.get_by_role("img", name="The photo you added as evidence")).to_be_visible()
    rec.check(page, "coach-award-preview")
    page.get_by_role("button", name="Confirm and award").tap()
    expect(page.get_by_role("heading", name="The badge was awarded")).to_be_visible()
    rec.check(page, "coach-awarded")

    page.get_by_role("link", name="Overview").tap()
    expect(page.get_by_role("cell", name=CLIENT_NAME)).to_be_visible()
    rec.check(page, "coach-workspace")
    page.get_by_role("link", name="Clients", exact=True).first.tap()
    page.get_by_role("link", name=CLIENT_NAME).tap()
    expect(page.get_by_role("link", name=BADGE_NAME)).to_be_visible()
    rec.check(page, "coach-client")


def _client_activates_and_shares(page: Any, rec: Recorder, server: LiveServer, sheet: dict[str, str]) -> str:
    """Client: activate with the code, see the badge and progress, make a share link for an employer."""
    page.goto(server.url("/login"))
    page.get_by_role("link", name="Activate your account").click()
    page.get_by_label("Activation code").fill(sheet["code"])
    page.get_by_label(re.compile(r"^\s*New password\s*\(")).fill(CLIENT_PASSWORD)
    page.get_by_label("New password again").fill(CLIENT_PASSWORD)
    rec.check(page, "client-activate")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_text(f"log in with your user name {sheet['user_name']}")).to_be_visible()
    rec.check(page, "client-home")

    page.get_by_role("link", name="My passport", exact=True).click()
    expect(page.get_by_role("link", name=BADGE_NAME).first).to_be_visible()
    progress = page.locator(".progress-text").first
    expect(progress).to_have_text(re.compile(r"^1 of \d+ requirements? evidenced$"))
    rec.check(page, "client-passport")
    page.get_by_role("link", name=BADGE_NAME).first.click()
    rec.check(page, "client-badge")

    page.get_by_role("link", name="My shares", exact=True).click()
    rec.check(page, "client-shares")
    page.get_by_role("main").get_by_role("link", name="Share my badges").click()
    page.get_by_label("My whole passport").check()
    page.get_by_label("Include the evidence").check()
    page.get_by_label("Name of the recipient").fill(RECIPIENT)
    page.get_by_label("Why do you share?").fill("Työhakemus: puusepän harjoittelupaikka")
    rec.check(page, "client-share-form")
    page.get_by_role("button", name="Make the share link").click()
    expect(page.get_by_role("heading", name="Your share link is ready")).to_be_visible()
    link = page.get_by_label("Share link").input_value()
    rec.check(page, "client-share-created")
    return link


def _employer_verifies(page: Any, rec: Recorder, server: LiveServer, link: str) -> dict[str, Any]:
    """Employer, no account: open the link, see the badge valid, its public page and its check."""
    facts: dict[str, Any] = {}
    response = page.goto(link)
    facts["share_status"] = response.status
    badge = page.get_by_role("article", name=BADGE_NAME)
    expect(badge.locator(".tag-valid")).to_have_text("Valid")
    expect(badge.get_by_text("Genuine, and the issuer has not revoked it.")).to_be_visible()
    expect(badge.get_by_role("img", name=re.compile("^Evidence photo"))).to_be_visible()
    rec.check(page, "employer-share")
    json_url = badge.get_by_role("link", name=re.compile(r"^Credential \(JSON\)")).get_attribute("href")
    credential_url = server.url(json_url.removesuffix(".json"))
    page.goto(credential_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(BADGE_NAME)
    rec.check(page, "employer-credential")
    page.get_by_role("link", name="Verify this badge").click()  # /verify?url=<the credential>
    expect(page).to_have_url(re.compile(r"/verify\?url="))
    expect(page.get_by_role("heading", name="Genuine and in force")).to_be_visible()
    rec.check(page, "employer-verify")
    page.get_by_label("Name or e-mail address you were told").fill(CLIENT_NAME)
    page.get_by_role("button", name="Check the name").click()
    awarded_to = page.get_by_role("definition").filter(has_text="matches the person the badge was awarded")
    expect(awarded_to).to_be_visible()
    rec.check(page, "employer-verify-name")
    return facts


def _client_stops_sharing(page: Any, rec: Recorder) -> None:
    """Client: the share shows the employer's opening; stop it."""
    page.get_by_role("link", name="My shares", exact=True).click()
    page.get_by_role("link", name=RECIPIENT).click()
    expect(page.get_by_role("cell", name="With the link")).to_be_visible()
    rec.check(page, "client-share-opened")
    page.get_by_role("link", name="Stop sharing").click()
    rec.check(page, "client-stop-confirm")
    page.get_by_role("button", name="Yes, stop sharing").click()
    expect(page.get_by_text("The share is stopped. The link no longer works.")).to_be_visible()
    rec.check(page, "client-share-stopped")


@pytest.fixture(scope="module")
def journey(chromium: Any, live_server: LiveServer, make_org_with_admin: Any) -> Journey:
    """Walk the whole journey once; each actor has a browser context of their own."""
    org = make_org_with_admin("verstas", "Työpaja Verstas", "aino.admin@verstas.example")
    rec = Recorder("journey")
    journey = Journey(recorder=rec)
    contexts = []

    def actor(**options: Any) -> Any:
        context = english_context(chromium, live_server, **options)
        contexts.append(context)
        return rec.watch(context.new_page())

    try:
        sheet = _admin_sets_up(actor(**DESKTOP), rec, live_server, org)
        _coach_awards(actor(**PHONE), rec, sheet["invitation"], org)
        client = actor(**DESKTOP)
        link = _client_activates_and_shares(client, rec, live_server, sheet)
        employer = actor(**DESKTOP)
        journey.facts.update(_employer_verifies(employer, rec, live_server, link))
        _client_stops_sharing(client, rec)

        response = employer.goto(link)
        journey.facts["dead_link_status"] = response.status
        journey.facts["dead_link_text"] = employer.locator("main").inner_text()
        rec.check(employer, "employer-dead-link")
    except Exception:
        rec.failure_shots(contexts)
        raise
    finally:
        for context in contexts:
            context.close()
    return journey


def test_journey_employer_sees_the_shared_badge_verified_until_the_client_stops_it(journey: Journey):
    assert journey.facts["share_status"] == 200
    assert journey.facts["dead_link_status"] == 404
    text = journey.facts["dead_link_text"]
    assert "This link is no longer valid" in text
    assert CLIENT_NAME not in text and BADGE_NAME not in text  # the dead link tells nothing


def test_journey_saved_a_screenshot_of_every_step(journey: Journey):
    shots = sorted(journey.recorder.folder.glob("*.png"))
    assert [p.stem for p in shots] == [page.step for page in journey.recorder.pages]
    assert all(p.stat().st_size > 1000 for p in shots)


def test_journey_pages_have_no_serious_or_critical_axe_violations(journey: Journey):
    problems = report(journey.recorder.pages, "violations")
    assert not problems, "axe-core found serious or critical problems:\n" + problems


def test_journey_pages_fit_a_320px_screen(journey: Journey):
    problems = report(journey.recorder.pages, "narrow_problems")
    assert not problems, "at 320 px width:\n" + problems


def test_journey_pages_log_no_errors_or_csp_refusals(journey: Journey):
    assert journey.recorder.console_errors == []
