"""Fixtures for the verification tests: an issued award of ours and a verify() shortcut."""

import pytest
from flask import g
from helpers import FIXED_NOW

from badges import verifier


@pytest.fixture
def app(app):
    """The app, with per-request globals forgotten between requests (one app context per test)."""

    def fresh_request_globals() -> None:
        for name in ("_login_user", "_flask_babel"):
            g.pop(name, None)

    app.before_request_funcs.setdefault(None, []).insert(0, fresh_request_globals)
    return app


@pytest.fixture
def verify(session, site):
    """Return ``verify(**inputs)``: :func:`verifier.verify_submission` at FIXED_NOW, in English."""

    def _verify(**kwargs):
        kwargs.setdefault("now", FIXED_NOW)
        kwargs.setdefault("language", "en")
        return verifier.verify_submission(session, site, **kwargs)

    return _verify
