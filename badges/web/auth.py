"""Blueprint ``auth``: log in and out, claim an account with an activation code, reset a password.

Password and code forms are rate-limited (see :mod:`badges.web.limits`); every successful
login starts a fresh session that expires after ``PERMANENT_SESSION_LIFETIME`` and ends when
the password changes. Login and reset answer alike for known and unknown addresses.
"""

import hashlib
import hmac
import logging

from flask import (
    Blueprint,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from badges import accounts, outbox, people, services
from badges.db import get_session
from badges.models import User
from badges.web import current_site, utcnow
from badges.web.limits import per_account, per_address, reset_per_account, reset_per_address

bp = Blueprint("auth", __name__)
mail_log = logging.getLogger("badges.mail")
#: Pages that carry a one-time secret in their address stay out of every cache.
NO_STORE = {"Cache-Control": "no-store"}


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
#: Session key of a fingerprint of the password the session was started with (a name, not a secret).
SESSION_PASSWORD = "_pw"  # nosec B105


def password_fingerprint(user: User) -> str:
    """Return a keyed digest of the user's password hash (the hash itself never leaves the DB).

    The session cookie is signed, not encrypted: it carries this HMAC, not the argon2 hash.
    """
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, (user.password_hash or "").encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def password_fingerprint_matches(user: User) -> bool:
    """Return False when the session was started with a password the user no longer has."""
    stored = session.get(SESSION_PASSWORD)
    # Every login stores one; without it the cookie was not made by a login (the key signs it).
    return stored is None or (isinstance(stored, str) and hmac.compare_digest(stored, password_fingerprint(user)))


def start_session(user: User) -> None:
    """Log ``user`` in with a fresh, expiring session (no session fixation).

    Everything the browser's session held before (from whoever planted it) is dropped, and
    the signed cookie gets new content, so a cookie known before the login is worthless after.
    """
    session.clear()
    login_user(LoginUser(user))
    session.permanent = True  # the cookie lapses after PERMANENT_SESSION_LIFETIME of inactivity …
    session[SESSION_STARTED] = int(utcnow().timestamp())
    session[SESSION_PASSWORD] = password_fingerprint(user)


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
        # Always one argon2 computation, whoever asks: the time says nothing about the account.
        right = services.check_password(user or User(display_name="", password_hash=None), form.password.data or "")
        if user is not None and user.is_active and right:
            start_session(user)
            return redirect(_safe_next(request.args.get("next")))
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


# --- password reset ---------------------------------------------------------------------------


class ForgotForm(FlaskForm):
    """The e-mail address of the account whose password was forgotten."""

    email = StringField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])


class ResetForm(FlaskForm):
    """A new password, twice (the same rules as at activation)."""

    password = password_field(_l("New password"))
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords are not the same.")),
    ])


def _reset_mail(user: User, link: str) -> tuple[str, str]:
    """Return the subject and body of the reset mail, in the person's own language."""
    minutes = int(accounts.RESET_LIFETIME.total_seconds() // 60)
    with force_locale(user.locale):
        subject = _("Set a new password for Osaamispassi")
        body = "\n\n".join([
            _("Hello,"),
            _("Someone asked to set a new password for the Osaamispassi account of this e-mail address. "
              "If it was you, open this link. It works once and for %(minutes)d minutes:", minutes=minutes),
            link,
            _("If you did not ask for this, ignore this message: your password stays as it is."),
        ])
    return subject, body


def _reset_after_response(address: str) -> None:
    """Look the address up, make the link and mail it once the answer has gone out.

    Nothing of it happens before the answer, so neither its words nor its timing tell whether
    the address has an account. Failures are logged (without the address), never shown.
    """
    from badges.web.people import mail_settings  # that module builds on this one

    app = current_app._get_current_object()  # noqa: SLF001 - the app outlives this request
    settings = mail_settings()
    # The link's address is built here, where the request knows the URL map's script root;
    # the token (made later) replaces the one-character stand-in at its end.
    stand_in = "-"
    link_prefix = current_site().url(url_for("auth.reset", token=stand_in))[:-1]

    def work() -> None:
        with app.app_context():
            db = get_session()
            try:
                found = accounts.request_reset(db, address, now=utcnow())
                if found is None:
                    return
                db.commit()
                user, token = found
                subject, body = _reset_mail(user, link_prefix + token)
                outbox.send(settings, to=user.email or "", subject=subject, body=body, now=utcnow())
            except outbox.MailError as error:
                mail_log.warning("password reset mail not sent: %s", error.code)
            except Exception:  # noqa: BLE001 - the person already has the answer; the log gets the rest
                db.rollback()
                mail_log.exception("password reset request failed")

    @after_this_request
    def later(response):  # noqa: ANN001, ANN202 - Flask response
        response.call_on_close(work)
        return response


@bp.route("/forgot", methods=["GET", "POST"])
@reset_per_address
@reset_per_account
def forgot():
    """Ask for a password-reset link by e-mail; the answer is the same for every address."""
    form = ForgotForm()
    if form.validate_on_submit():
        address = (form.email.data or "").strip()
        if "@" not in address:
            form.email.errors.append(_("Type your e-mail address. If you log in with a user name, ask your "
                                       "coach for a new activation sheet."))
        else:
            _reset_after_response(address)
            return render_template("auth/forgot.html", form=None, sent=True)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot.html", form=form, sent=False), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
@per_address
def reset(token: str):
    """Choose a new password with a one-time link from the reset mail."""
    db = get_session()
    try:
        accounts.find_reset(db, token, now=utcnow())
    except people.InvalidLinkError:
        return render_template("auth/reset.html", form=None), 404, NO_STORE
    form = ResetForm()
    if form.validate_on_submit():
        try:
            user = accounts.reset_password(db, token, form.password.data or "", now=utcnow())
        except people.InvalidLinkError:
            db.rollback()
            return render_template("auth/reset.html", form=None), 404, NO_STORE
        db.commit()
        start_session(user)
        flash(_("Your new password is set, and you are logged in. Other sessions of your account have ended."),
              "success")
        return redirect(url_for("home.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset.html", form=form), status, NO_STORE
