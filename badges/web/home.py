"""Blueprint ``home``: the front page, and each signed-in person's own overview."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import Length, Optional

from badges import awarding, services
from badges.db import get_session
from badges.web import utcnow

bp = Blueprint("home", __name__)
#: Notification kinds this page shows (and so may mark read); other pages show their own.
NOTICE_KINDS = (awarding.REVOKED,)


class ReadForm(FlaskForm):
    """Mark notifications read: one award's, or all when ``award`` is empty."""

    award = HiddenField(validators=[Optional(), Length(max=32)])


@bp.get("/")
def index():
    """Show the front page, or the person's badges, notices and their organisations' latest awards."""
    if not current_user.is_authenticated:
        return render_template("home/index.html")
    db = get_session()
    user = current_user.user
    staff_orgs = services.organisations_of(db, user, ("admin", "coach"))
    awards = services.awards_for(db, user)
    return render_template(
        "home/dashboard.html",
        now=utcnow(),
        my_awards=[a for a in awards if a.revoked_at is None],
        withdrawn=[a for a in awards if a.revoked_at is not None],
        notifications=[n for n in awarding.unread_notifications(db, user, kinds=NOTICE_KINDS) if n.award is not None],
        organisations=[(org, services.awards_of_organisation(db, org, limit=50)) for org in staff_orgs],
    )


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark the person's own notifications read (one award's, or all)."""
    form = ReadForm()
    if form.validate_on_submit():
        db = get_session()
        awarding.mark_read(db, current_user.user, now=utcnow(), award_public_id=form.award.data or None,
                           kinds=NOTICE_KINDS)
        db.commit()
        flash(_("Marked as read."), "info")
    return redirect(url_for("home.index"))
