"""Blueprint ``auth``: log in and out, and claim an account with an activation code.

Password and code forms are rate-limited (see :mod:`badges.web.limits`); every successful
login starts a fresh session that expires after ``PERMANENT_SESSION_LIFETIME``.
"""

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from badges import people, services
from badges.db import get_session
from badges.models import User
from badges.web import utcnow
from badges.web.limits import per_account, per_address

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


#: Session key of the login time (seconds since the epoch, UTC).
SESSION_STARTED = "_started"


def start_session(user: User) -> None:
    """Log ``user`` in with a fresh, expiring session (no session fixation)."""
    session.clear()
    login_user(LoginUser(user))
    session.permanent = True  # the cookie lapses after PERMANENT_SESSION_LIFETIME of inactivity …
    session[SESSION_STARTED] = int(utcnow().timestamp())


@bp.before_app_request
def _end_sessions_past_their_lifetime() -> None:
    """… and a session ends that long after the login even when it was in use all along."""
    started = session.get(SESSION_STARTED)
    if not isinstance(started, int):
        return
    if utcnow().timestamp() - started > current_app.permanent_session_lifetime.total_seconds():
        logout_user()
        session.clear()


class LoginForm(FlaskForm):
    """E-mail address (or login name) and password."""

    # No format check at login: a wrong address simply does not match (and the demo's
    # reserved .test domain must work); addresses are validated where they are created.
    # People without an e-mail address log in with the login name on their activation sheet.
    email = StringField(_l("E-mail address or user name"), validators=[DataRequired(), Length(max=320)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def password_field(label: str | object) -> PasswordField:
    """Return a new-password field with the length rules of :mod:`badges.people`."""
    return PasswordField(label, validators=[
        DataRequired(),
        Length(min=people.MIN_PASSWORD_LENGTH, max=people.MAX_PASSWORD_LENGTH,
               message=_l("Use at least %(min)d characters.", min=people.MIN_PASSWORD_LENGTH)),
    ])


class ActivateForm(FlaskForm):
    """Activation code and a new password, twice."""

    code = StringField(_l("Activation code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The code is on the sheet you got from your coach, e.g. K7QF-9MXD-2RTA."))
    password = password_field(_l("New password"))
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords are not the same.")),
    ])


def _safe_next(target: str | None) -> str:
    """Allow only local paths as the post-login destination (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@per_address
@per_account
def login():
    """Show the login form and log the person in."""
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        user = people.find_user_for_login(db, form.email.data or "")
        if user is not None and user.is_active and services.check_password(user, form.password.data or ""):
            start_session(user)
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


@bp.route("/activate", methods=["GET", "POST"])
@per_address
def activate():
    """Claim an account: activation code from the coach's sheet plus a new password."""
    form = ActivateForm()
    if request.method == "GET" and not form.code.data:
        form.code.data = (request.args.get("code") or "")[:40]
    if form.validate_on_submit():
        db = get_session()
        try:
            user = people.activate(db, form.code.data or "", form.password.data or "", now=utcnow())
        except people.InvalidLinkError:
            db.rollback()
            form.code.errors.append(_("This code does not work. It may be mistyped, used already or "
                                      "expired. Check it, or ask your coach for a new sheet."))
        else:
            db.commit()
            start_session(user)
            if user.email:
                flash(_("Your password is set. From now on, log in with your e-mail address and this password."),
                      "success")
            else:
                flash(_("Your password is set. From now on, log in with your user name %(name)s and this "
                        "password.", name=people.login_name(user)), "success")
            return redirect(url_for("home.index"))
    status = 400 if request.method == "POST" else 200
    # The code may arrive in the address (from the QR code): keep the page out of caches.
    return render_template("auth/activate.html", form=form), status, {"Cache-Control": "no-store"}
