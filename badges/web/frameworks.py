"""Blueprint ``frameworks``: browse and search qualification frameworks (read-only)."""

from flask import Blueprint

bp = Blueprint("frameworks", __name__, url_prefix="/frameworks")
