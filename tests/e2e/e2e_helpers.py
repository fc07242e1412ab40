"""Helpers of the browser tests: page checks (screenshot, axe-core, 320 px), keyboard moves, test data.

Every page a journey reaches goes through :meth:`Recorder.check`: a full-page screenshot under
``test-artifacts/e2e/<test>/<nn-step>.png``, an axe-core run (serious and critical violations
are failures) and a 320 px layout check (no sideways scrolling, no control cut off).
"""

import dataclasses
import email
import email.policy
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

from flask import Flask
from helpers import REPO_ROOT
from PIL import Image, ImageDraw

from badges.core.keywrap import parse_kek

E2E_DIR = Path(__file__).resolve().parent
AXE_SCRIPT = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
SKIP_HINT = "run `make test`, which installs the npm packages of tests/e2e (see README, Tests)"
#: axe-core impacts that fail a page.
BLOCKING_IMPACTS = ("serious", "critical")
#: The narrowest screen every page must fit (WCAG 2.1 reflow: 320 CSS px).
NARROW = 320
#: A phone: the coach awards from one (iPhone 12–14 size, touch).
PHONE = {
    "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@dataclasses.dataclass(frozen=True)
class LiveServer:
    """The app served on a loopback port."""

    app: Flask
    base_url: str

    @property
    def kek(self) -> bytes:
        """The key-encryption key of the running app."""
        return parse_kek(self.app.config["BADGES_KEK"])

    @property
    def outbox(self) -> Path:
        """Where the app writes mail when no SMTP server is configured."""
        return Path(self.app.instance_path) / "outbox"

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path``."""
        return self.base_url + path


@dataclasses.dataclass(frozen=True)
class Org:
    """An organisation made by a fixture, with its admin's e-mail address."""

    slug: str
    name: str
    admin_email: str


@dataclasses.dataclass
class PageCheck:
    """What the checks found on one page of a journey."""

    step: str
    url: str
    violations: list[str] = dataclasses.field(default_factory=list)
    #: axe-core's moderate and minor findings: reported in checks.json, not failures
    notes: list[str] = dataclasses.field(default_factory=list)
    narrow_problems: list[str] = dataclasses.field(default_factory=list)


def english_context(browser: Any, server: LiveServer, **options: Any) -> Any:
    """Return a new browser context that reads the app in English (the labels the tests use)."""
    context = browser.new_context(locale="en-GB", **options)
    # the language cookie wins over a user's own preference, as when a person picks "English"
    context.add_cookies([{"name": "lang", "value": "en", "url": server.base_url}])
    context.set_default_timeout(10_000)
    return context


# --- the per-page checks ------------------------------------------------------------------------

#: Runs in the page: the layout problems at the current (narrow) width.
NARROW_CHECK = """() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const page = document.documentElement.scrollWidth;
  if (page > width) problems.push(`the page scrolls sideways: ${page} px wide in a ${width} px window`);
  const describe = (el) => {
    const name = (el.getAttribute('aria-label') || el.textContent || el.value || el.name || '')
      .trim().replace(/\\s+/g, ' ');
    return `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}> "${name.slice(0, 60)}"`;
  };
  // a control inside an intentional sideways-scrolling region (tables) is reachable by scrolling it
  const inScrollRegion = (el) => {
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (/(auto|scroll)/.test(style.overflowX) && node.hasAttribute('tabindex')) return true;
    }
    return false;
  };
  const controls = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])');
  for (const el of controls) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    if (el.closest('.visually-hidden, [hidden], .skip-link')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (!inScrollRegion(el) && (box.left < -1 || box.right > width + 1)) {
      problems.push(`${describe(el)} sticks out: ${Math.round(box.left)}..${Math.round(box.right)} px`);
    }
    // hidden overflow cuts content off; auto/scroll regions scroll (axe checks they take the focus)
    const clips = ['hidden', 'clip'].includes(style.overflowX) || style.textOverflow === 'ellipsis';
    const isField = ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
    if (clips && !isField && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${describe(el)} cuts its text: ${el.scrollWidth} px of content in ${el.clientWidth} px`);
    }
  }
  return problems;
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
  }));
}"""


class Recorder:
    """Checks and photographs every page of one test; failures are collected, then asserted."""

    def __init__(self, name: str, *, axe: bool = True) -> None:
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.axe_source = AXE_SCRIPT.read_text(encoding="utf-8") if axe else None
        self.pages: list[PageCheck] = []
        self.console_errors: list[str] = []

    def watch(self, page: Any) -> Any:
        """Record the console errors of ``page`` (a CSP refusal shows up there); return the page."""
        def console(message: Any) -> None:
            source = message.location.get("url", "")
            # Chromium asks every site for /favicon.ico (the app has none), and logs a 404 page
            # itself as a failed load: the tests check the status of the page they open
            if message.type != "error" or source.endswith("/favicon.ico") or source == page.url:
                return
            self.console_errors.append(f"{page.url}: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda error: self.console_errors.append(f"{page.url}: {error}"))
        return page

    def check(self, page: Any, step: str) -> PageCheck:
        """Screenshot the page as the actor sees it, run axe-core, then check it at 320 px."""
        page.wait_for_load_state("load")
        number = len(self.pages) + 1
        name = f"{number:02d}-{step}"
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)
        record = PageCheck(step=name, url=page.url)
        if self.axe_source is not None:
            found = run_axe(page, self.axe_source)
            record.violations = [line for impact, line in found if impact in BLOCKING_IMPACTS]
            record.notes = [line for impact, line in found if impact not in BLOCKING_IMPACTS]
        record.narrow_problems = narrow_problems(page)
        self.pages.append(record)
        self._write_summary()
        return record

    def failure_shots(self, contexts: list[Any]) -> None:
        """Photograph every open page as it was when a step failed (``failed-<n>.png``)."""
        pages = [page for context in contexts for page in context.pages]
        for number, page in enumerate(pages, 1):
            try:
                page.screenshot(path=str(self.folder / f"failed-{number}.png"), full_page=True)
            except Exception:  # noqa: BLE001, S110 - the original error matters, not this one
                pass

    def _write_summary(self) -> None:
        summary = [dataclasses.asdict(record) for record in self.pages]
        text = json.dumps(summary, indent=2, ensure_ascii=False)
        (self.folder / "checks.json").write_text(text, encoding="utf-8")

    def shot(self, page: Any, step: str) -> None:
        """Only a screenshot (for pages already checked in this test)."""
        number = len(self.pages) + 1
        page.screenshot(path=str(self.folder / f"{number:02d}-{step}.png"), full_page=True)
        self.pages.append(PageCheck(step=f"{number:02d}-{step}", url=page.url))


def run_axe(page: Any, source: str) -> list[tuple[str, str]]:
    """Return the axe-core violations of the page as (impact, one line)."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        # evaluated through the DevTools protocol, so the page's CSP (no inline scripts) allows it
        page.evaluate(source)
    found = page.evaluate(AXE_RUN)
    return [
        (v["impact"], f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(v['targets'])}") for v in found
    ]


def narrow_problems(page: Any) -> list[str]:
    """Return the layout problems of the page at 320 px width (the size is restored after)."""
    size = page.viewport_size
    page.set_viewport_size({"width": NARROW, "height": size["height"]})
    try:
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        return page.evaluate(NARROW_CHECK)
    finally:
        page.set_viewport_size(size)


def report(pages: list[PageCheck], attribute: str) -> str:
    """Return the problems of every page in one readable block ('' when there are none)."""
    lines = []
    for record in pages:
        problems = getattr(record, attribute)
        if problems:
            lines.append(f"{record.step} ({record.url}):")
            lines.extend(f"    {problem}" for problem in problems)
    return "\n".join(lines)


# --- keyboard -------------------------------------------------------------------------------------

#: Runs in the page: does the focused element show where the focus is?
FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'nothing has the focus';
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  const name = `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.type ? ' type=' + el.type : ''}>`;
  // a date field's calendar button is focused inside the field: the field matches :focus-within
  if (!el.matches(':focus-visible') && !(el.matches(':focus-within') && !el.matches(':focus'))) {
    return `${name} has the focus but does not match :focus-visible`;
  }
  return outline || shadow ? '' : `${name} shows no focus ring`;
}"""


def is_focused(locator: Any) -> bool:
    """Return True when ``locator``'s element has the keyboard focus."""
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page: Any, locator: Any, *, limit: int = 80) -> int:
    """Press Tab until ``locator`` has the focus, checking the focus ring at every stop.

    Return the number of presses.
    """
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        problem = page.evaluate(FOCUS_VISIBLE)
        assert not problem, f"after {presses} Tab presses on {page.url}: {problem}"
        if is_focused(locator):
            return presses
    raise AssertionError(f"{limit} Tab presses on {page.url} did not reach {locator}")


def press_to_open(page: Any, key: str = "Enter") -> None:
    """Press ``key`` on the focused link or button and wait for the page it opens."""
    with page.expect_navigation():
        page.keyboard.press(key)


def tab_and_open(page: Any, locator: Any) -> None:
    """Tab to a link or a submit button and press Enter on it; wait for the next page."""
    tab_to(page, locator)
    press_to_open(page)


# --- test data --------------------------------------------------------------------------------------


def png(width: int, height: int, colour: tuple[int, int, int], *, label: str = "") -> bytes:
    """Return a generated PNG: a coloured picture with a light shape on it (and a text)."""
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 6, height // 6, width * 5 // 6, height * 5 // 6), fill=(245, 245, 235))
    if label:
        draw.text((width // 3, height // 2), label, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def upload(name: str, data: bytes) -> dict[str, Any]:
    """Return a file for Playwright's ``set_input_files``."""
    return {"name": name, "mimeType": "image/png", "buffer": data}


def link_in_mail(outbox: Path, to: str, base_url: str) -> str:
    """Return the link to this app in the newest mail to ``to`` in the outbox folder."""
    for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] != to:
            continue
        body = message.get_body(preferencelist=("plain",)).get_content()
        found = re.search(re.escape(base_url) + r"/\S+", body)
        if found:
            return found.group(0)
    raise AssertionError(f"no mail with a link to {to} in {outbox}")
