"""Osaamispassi: an Open Badges 3.0 competence-passport issuer (Flask application)."""

from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None, *, check_secrets: bool = True) -> Flask:
    """Create and configure an instance of the badges app.

    ``check_secrets=False`` is only for ``badges init``, which creates the secrets.
    """
    from badges import cli, config, db, web

    app = Flask(
        __name__,
        instance_path=str(config.instance_path()),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    config.load(app, test_config)
    if check_secrets:
        config.check_secrets(app)
    db.init_app(app)
    cli.init_app(app)
    web.init_app(app)
    proxies = int(app.config["BADGES_PROXIES"])
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # the real client address (rate limits) and scheme come from the proxy's headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    return app
