"""Blueprint ``people``: organisation profile, members, invitations, clients and activation."""

from flask import Blueprint

bp = Blueprint("people", __name__)
