"""Blueprint ``home``: the front page, and each signed-in person's own overview."""

from flask import Blueprint, render_template
from flask_login import current_user

from badges import services
from badges.db import get_session
from badges.web import utcnow

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Show the front page, or the person's badges and their organisations' latest awards."""
    if not current_user.is_authenticated:
        return render_template("home/index.html")
    db = get_session()
    user = current_user.user
    staff_orgs = services.organisations_of(db, user, ("admin", "coach"))
    return render_template(
        "home/dashboard.html",
        now=utcnow(),
        my_awards=services.awards_for(db, user),
        organisations=[(org, services.awards_of_organisation(db, org, limit=50)) for org in staff_orgs],
    )
