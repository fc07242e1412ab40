"""Keyboard only: the skip link, a visible focus at every Tab stop, and three key flows.

A coach logs in, awards a badge and logs out; a client logs in and makes a share link, all
with Tab, Enter and Space (pages are opened by address only where a person would
type or follow one: the login page). ``tab_to`` fails on any Tab stop without a focus ring.
"""

import re
from typing import Any

import pytest
from e2e_helpers import (
    DESKTOP,
    FOCUS_VISIBLE,
    LiveServer,
    Recorder,
    english_context,
    is_focused,
    tab_and_open,
    tab_to,
)
from helpers import PASSWORD
from playwright.sync_api import expect

from badges import services
from badges.db import get_session
from badges.web import utcnow

COACH = "bruno.valmentaja@puutarha.example"
CLIENT = "ville.asiakas@puutarha.example"
ORG_NAME = "Puutarhasäätiö"
BADGE = "Nurmikon leikkaaminen"


@pytest.fixture(scope="module")
def garden(live_server: LiveServer, make_org_with_admin: Any) -> None:
    """A second organisation: a coach, a client with an e-mail address and one badge."""
    make_org_with_admin("puutarha", ORG_NAME, "admin@puutarha.example")
    with live_server.app.app_context():
        db = get_session()
        organisation = services.get_organisation(db, "puutarha")
        for email, name, role in ((COACH, "Bruno Valmentaja", "coach"), (CLIENT, "Ville Asiakas", "client")):
            user = services.create_user(db, display_name=name, email=email, password=PASSWORD, now=utcnow())
            services.add_member(db, user, organisation, role, now=utcnow())
        services.create_achievement(
            db, organisation, name=BADGE, description="Osaa leikata nurmikon.",
            criteria="Osaa leikata nurmikon tasaisesti ja turvallisesti.", image_alt="Vihreä merkki",
            now=utcnow(),
        )
        db.commit()


@pytest.fixture
def keyboard_page(chromium: Any, live_server: LiveServer, garden: None) -> Any:
    """A fresh desktop browser context and its page."""
    context = english_context(chromium, live_server, **DESKTOP)
    yield context.new_page()
    context.close()


def _login_by_keyboard(page: Any, server: LiveServer, email: str) -> None:
    page.goto(server.url("/login"))
    email_field = page.get_by_label("E-mail address or user name")
    tab_to(page, email_field)
    page.keyboard.type(email)
    tab_to(page, page.get_by_label(re.compile(r"^\s*Password")))
    page.keyboard.type(PASSWORD)
    tab_and_open(page, page.get_by_role("button", name="Log in"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_skip_link_is_the_first_stop_and_moves_the_focus_into_the_content(
    keyboard_page: Any, live_server: LiveServer,
):
    page = keyboard_page
    _login_by_keyboard(page, live_server, COACH)  # a page with the full menu in front of the content
    page.keyboard.press("Tab")  # the page after the login starts from the top again
    skip = page.get_by_role("link", name="Skip to content")
    assert is_focused(skip)
    assert page.evaluate(FOCUS_VISIBLE) == ""
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["height"] >= 24, "the focused skip link is on screen"
    page.keyboard.press("Enter")  # an in-page link: no new page
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)"), (
        "after the skip link, the next Tab stop is in the content, not in the menu")


def test_coach_logs_in_awards_and_logs_out_with_the_keyboard_only(
    keyboard_page: Any, live_server: LiveServer,
):
    page = keyboard_page
    rec = Recorder("keyboard-award", axe=False)
    _login_by_keyboard(page, live_server, COACH)
    rec.shot(page, "logged-in")

    tab_and_open(page, page.get_by_role("navigation", name="Main menu").get_by_role("link", name=ORG_NAME))
    tab_and_open(page, page.get_by_role("link", name="Award a badge").first)
    badge = page.get_by_label(BADGE)
    tab_to(page, badge)
    page.keyboard.press("Space")
    expect(badge).to_be_checked()
    client = page.get_by_label("Ville Asiakas")
    tab_to(page, client)
    page.keyboard.press("Space")
    expect(client).to_be_checked()
    tab_to(page, page.get_by_label("Note"))
    page.keyboard.type("Leikkasi koko nurmen tasaisesti.")
    rec.shot(page, "award-form")
    tab_and_open(page, page.get_by_role("button", name="Preview"))
    expect(page.get_by_role("heading", name="Check the award")).to_be_visible()
    rec.shot(page, "award-preview")
    tab_and_open(page, page.get_by_role("button", name="Confirm and award"))
    expect(page.get_by_role("heading", name="The badge was awarded")).to_be_visible()
    rec.shot(page, "awarded")

    tab_and_open(page, page.get_by_role("button", name="Log out"))
    expect(page.get_by_text("You have logged out.")).to_be_visible()


def test_client_logs_in_and_makes_a_share_link_with_the_keyboard_only(
    keyboard_page: Any, live_server: LiveServer,
):
    page = keyboard_page
    rec = Recorder("keyboard-share", axe=False)
    _login_by_keyboard(page, live_server, CLIENT)
    tab_and_open(page, page.get_by_role("link", name="My passport", exact=True))
    rec.shot(page, "passport")
    tab_and_open(page, page.get_by_role("link", name="Share my badges"))
    whole = page.get_by_label("My whole passport")
    expect(whole).to_be_checked()  # the default
    tab_to(page, page.get_by_label("Name of the recipient"))
    page.keyboard.type("TE-palvelut, Ms N")
    tab_to(page, page.get_by_label("Why do you share?"))
    page.keyboard.type("Seuraavan askeleen suunnittelu")
    rec.shot(page, "share-form")
    tab_and_open(page, page.get_by_role("button", name="Make the share link"))
    expect(page.get_by_role("heading", name="Your share link is ready")).to_be_visible()
    assert "/s/" in page.get_by_label("Share link").input_value()
    rec.shot(page, "share-created")
