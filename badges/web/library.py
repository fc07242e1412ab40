"""Blueprint ``library``: an organisation's badge definitions and the shared criteria catalogue."""

from flask import Blueprint

bp = Blueprint("library", __name__, url_prefix="/org/<slug>/badges")
