"""Blueprint ``passport``: a client's passport, progress, downloads and personal data."""

from flask import Blueprint

bp = Blueprint("passport", __name__, url_prefix="/passport")
