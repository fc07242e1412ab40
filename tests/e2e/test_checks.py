"""The page checks themselves find problems: a silent axe-core or layout check would pass anything.

Each test opens a real page of the app (under its Content-Security-Policy), breaks it on purpose
through the DOM, and expects the check to report exactly that.
"""

from typing import Any

import pytest
from e2e_helpers import (
    AXE_SCRIPT,
    DESKTOP,
    FOCUS_VISIBLE,
    LiveServer,
    english_context,
    narrow_problems,
    run_axe,
)


@pytest.fixture
def login_page(chromium: Any, live_server: LiveServer) -> Any:
    """The login page in a fresh desktop context."""
    context = english_context(chromium, live_server, **DESKTOP)
    page = context.new_page()
    page.goto(live_server.url("/login"))
    yield page
    context.close()


def test_axe_runs_under_the_csp_and_reports_an_image_without_alt_and_a_field_without_label(login_page: Any):
    source = AXE_SCRIPT.read_text(encoding="utf-8")
    assert run_axe(login_page, source) == []
    login_page.evaluate("""() => {
        const main = document.querySelector('main');
        const image = document.createElement('img');
        image.src = '/static/css/app.css';
        main.append(image, document.createElement('input'));
    }""")
    found = {line.split(" ")[0]: impact for impact, line in run_axe(login_page, source)}
    assert found.get("image-alt") == "critical"
    assert found.get("label") == "critical"


def test_narrow_check_reports_sideways_scrolling_and_a_button_that_cuts_its_text(login_page: Any):
    assert narrow_problems(login_page) == []
    login_page.evaluate("""() => {
        const wide = document.createElement('div');
        wide.style.width = '600px';
        wide.textContent = 'wide';
        const button = document.createElement('button');
        button.textContent = 'A button with a rather long label';
        Object.assign(button.style, {width: '60px', overflow: 'hidden', whiteSpace: 'nowrap'});
        document.querySelector('main').append(wide, button);
    }""")
    problems = narrow_problems(login_page)
    assert any("scrolls sideways" in problem for problem in problems)
    assert any('"A button with a rather long label" cuts its text' in problem for problem in problems)
    assert login_page.viewport_size == DESKTOP["viewport"]  # the check puts the size back


def test_focus_check_reports_a_control_without_a_focus_ring(login_page: Any):
    button = login_page.get_by_role("button", name="Log in")
    button.evaluate("el => { el.style.outline = 'none'; el.style.boxShadow = 'none'; }")
    button.focus()
    login_page.keyboard.press("Shift+Tab")
    login_page.keyboard.press("Tab")  # back to the button, by keyboard
    assert login_page.evaluate(FOCUS_VISIBLE).endswith("shows no focus ring")
