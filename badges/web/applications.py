"""Blueprint ``applications``: clients apply for badges; coaches review the applications."""

from flask import Blueprint

bp = Blueprint("applications", __name__)
