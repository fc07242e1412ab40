"""Fixtures of the browser tests: one headless Chromium per run, a live server, an org with its admin.

The browser is Debian's ``chromium`` driven by Playwright (never a browser Playwright downloads);
the app runs for real (CSRF on, rate limits on, jobs inline) in a background thread on a free
loopback port. Without Chromium, Playwright or the npm axe-core package the tests skip with the
reason, except under CI, where they fail.
"""

import importlib.util
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_helpers import AXE_SCRIPT, SKIP_HINT, LiveServer, Org
from helpers import PASSWORD, in_ci
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from werkzeug.serving import WSGIRequestHandler, make_server

from badges import create_app, frameworks, services
from badges.core.keywrap import new_kek
from badges.db import get_engine, get_session
from badges.models import Base
from badges.web import utcnow

if importlib.util.find_spec("playwright") is None and not in_ci():
    pytest.skip(f"Playwright for Python is not installed; {SKIP_HINT}", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402 - only once it is known to be there

# Other test runs may share the machine: give a slow page 10 s before an expectation fails.
expect.set_options(timeout=10_000)

#: Which database the live server uses: ``sqlite`` (default) or ``postgresql``.
DATABASE = os.environ.get("BADGES_E2E_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("BADGES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: Keep the browser's own traffic on this machine: every host name but 127.0.0.1 fails to resolve.
CHROMIUM_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--disable-dev-shm-usage"]


def _skip_or_fail(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason} — CI must run the browser tests (.ci/run installs Chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium for the whole run (each actor gets a context of its own)."""
    executable = shutil.which("chromium")
    if executable is None:
        _skip_or_fail(f"`chromium` is not on PATH: `apt-get install -y chromium` ({SKIP_HINT})")
    from playwright.sync_api import sync_playwright

    if not AXE_SCRIPT.is_file():
        _skip_or_fail(f"{AXE_SCRIPT} is missing; {SKIP_HINT}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _database(tmp: Path) -> Iterator[str]:
    """Yield an empty database URL: an SQLite file or a throw-away PostgreSQL schema."""
    if DATABASE != "postgresql":
        yield f"sqlite:///{tmp / 'e2e.sqlite'}"
        return
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    schema = "e2e_" + uuid.uuid4().hex[:12]
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError as error:
        _skip_or_fail(f"PostgreSQL at {POSTGRES_URL} is not reachable ({error.orig.__class__.__name__})")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


class _QuietHandler(WSGIRequestHandler):
    """Serve without a log line per request (pytest shows the log of failing tests only)."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        """Log nothing."""


class _Late:
    """A WSGI app that forwards to the real one, which exists only once the port is known."""

    app = None

    def __call__(self, environ, start_response):  # noqa: ANN001, ANN204 - WSGI
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def live_server(chromium: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app on http://127.0.0.1:<free port>, its base URL written into every badge."""
    tmp = tmp_path_factory.mktemp("e2e")
    late = _Late()
    server = make_server("127.0.0.1", 0, late, threaded=True, request_handler=_QuietHandler)
    base_url = f"http://127.0.0.1:{server.server_port}"
    for database_url in _database(tmp):
        previous = os.environ.get("BADGES_INSTANCE_PATH")
        os.environ["BADGES_INSTANCE_PATH"] = str(tmp / "instance")  # read once, by create_app
        try:
            app = create_app({
                "SECRET_KEY": "e2e-secret-key-that-is-long-enough-0123456789",
                "BADGES_KEK": new_kek(),
                "BADGES_BASE_URL": base_url,
                "BADGES_DATABASE_URL": database_url,
                "BADGES_JOBS_INLINE": True,
            })
        finally:
            if previous is None:
                os.environ.pop("BADGES_INSTANCE_PATH", None)
            else:
                os.environ["BADGES_INSTANCE_PATH"] = previous
        with app.app_context():
            Base.metadata.create_all(get_engine())
            frameworks.import_demo(get_session(), utcnow())
            get_session().commit()
        late.app = app
        thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
        thread.start()
        try:
            yield LiveServer(app=app, base_url=base_url)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            app.extensions["badges.engine"].dispose()


@pytest.fixture(scope="session")
def make_org_with_admin(live_server: LiveServer):
    """Return a factory: an organisation (with its signing key) and its admin, committed."""

    def _make(slug: str, name: str, admin_email: str) -> Org:
        with live_server.app.app_context():
            db = get_session()
            site = services.Site(base_url=live_server.base_url, kek=live_server.kek)
            organisation = services.create_organisation(db, site, slug=slug, name=name, now=utcnow())
            admin = services.create_user(db, display_name="Aino Ylläpitäjä", email=admin_email,
                                         password=PASSWORD, now=utcnow())
            services.add_member(db, admin, organisation, "admin", now=utcnow())
            db.commit()
        return Org(slug=slug, name=name, admin_email=admin_email)

    return _make
