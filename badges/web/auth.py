"""Blueprint ``auth``: log in and out with e-mail and password (Flask-Login sessions)."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from badges import services
from badges.db import get_session
from badges.models import User

bp = Blueprint("auth", __name__)


class LoginUser(UserMixin):
    """The Flask-Login view of a :class:`User`; the session holds only the public id."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        """Return the opaque id stored in the session cookie."""
        return self.user.public_id

    def __getattr__(self, name: str):  # noqa: ANN204 - delegate display fields to the model
        return getattr(self.user, name)


class LoginForm(FlaskForm):
    """E-mail and password."""

    # No format check at login: a wrong address simply does not match (and the demo's
    # reserved .test domain must work); addresses are validated where they are created.
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def _safe_next(target: str | None) -> str:
    """Allow only local paths as the post-login destination (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form and log the person in."""
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        user = services.find_user_by_email(db, form.email.data or "")
        if user is not None and user.is_active and services.check_password(user, form.password.data or ""):
            session.clear()  # a fresh session on login: no fixation
            login_user(LoginUser(user))
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        if user is None:
            services.check_password(User(display_name="", password_hash=None), form.password.data or "")
        flash(_("The e-mail address or password is not right."), "error")
    return render_template("auth/login.html", form=form), 400 if request.method == "POST" else 200


@bp.post("/logout")
@login_required
def logout():
    """Log out and forget the session."""
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("home.index"))


