"""Structured request logs: one JSON line per request, without personal data or secrets.

Each line says when, which method, which *route* (the URL rule such as ``/s/<token>``, never
the path as requested: share tokens, activation codes and reset tokens live in paths and query
strings), the status, how long it took and a request id (also sent as ``X-Request-ID``, so a
person reporting a problem can quote it). Client addresses, e-mail addresses, names, query
strings, headers and bodies are never logged.

The lines go to the ``badges.request`` logger. ``badges serve`` sends them to standard error
(:func:`log_to_stderr`) and switches gunicorn's own access log off, which would show raw paths
and addresses. Under another WSGI server, call :func:`log_to_stderr` or configure the logger;
one-off commands (``badges export`` requests every public page) stay quiet.
"""

import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, request
from flask.wrappers import Response

#: The logger of the request lines.
log = logging.getLogger("badges.request")
#: Shown for a request that matched no route (a 404): the raw path could hold anything.
UNMATCHED = "<unmatched>"
REQUEST_ID_HEADER = "X-Request-ID"


def route_template() -> str:
    """Return the URL rule of the current request (``/s/<token>``), never the raw path."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def request_line(status: int) -> dict[str, object]:
    """Return the fields logged for the current request (all free of personal data)."""
    started = g.get("_log_started")
    duration = (time.perf_counter() - started) * 1000 if started is not None else None
    return {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "method": request.method,
        "path": route_template(),
        "status": status,
        "duration_ms": round(duration, 1) if duration is not None else None,
        "request_id": g.get("request_id"),
    }


def _start() -> None:
    g._log_started = time.perf_counter()
    # Generated here, never taken from the client: a header could smuggle anything into the log.
    g.request_id = uuid.uuid4().hex


def _finish(response: Response) -> Response:
    if g.get("request_id") is None:  # a before_request handler ended the request before ours ran
        _start()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    log.info(json.dumps(request_line(response.status_code), separators=(",", ":")))
    g._log_done = True
    return response


def _teardown(error: BaseException | None) -> None:
    """Log a request that ended in an exception no handler turned into a response."""
    if error is not None and not g.get("_log_done") and g.get("request_id") is not None:
        log.info(json.dumps(request_line(500), separators=(",", ":")))


def init_app(app: Flask) -> None:
    """Log every request of ``app`` to the ``badges.request`` logger."""
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_teardown)
    log.setLevel(logging.INFO)


def log_to_stderr() -> None:
    """Write the request lines to standard error, one JSON object a line (idempotent)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.propagate = False  # one line per request, not a second copy through the root logger
