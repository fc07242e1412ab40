"""Blueprint ``coach``: award (one, a group, a CSV), revoke, jobs and the audit log."""

from flask import Blueprint

bp = Blueprint("coach", __name__, url_prefix="/org/<slug>")
