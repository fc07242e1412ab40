"""Role and ownership checks shared by the blueprints: every route, every object.

A person who may not see an object gets 404, not 403, so that guessing ids reveals nothing.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user, login_required
from sqlalchemy import select

from badges import services
from badges.db import get_session
from badges.models import Membership, Organisation, User

ModelT = TypeVar("ModelT")


def me() -> User:
    """Return the logged-in person's User row."""
    return current_user.user


def staff_organisation(slug: str, roles: tuple[str, ...]) -> Organisation:
    """Return the organisation if the current user has one of ``roles`` in it, else 404."""
    session = get_session()
    organisation = session.scalar(
        select(Organisation)
        .join(Membership)
        .where(Organisation.slug == slug, Membership.user_id == me().id, Membership.role.in_(roles))
    )
    if organisation is None:
        abort(404)
    return organisation


def staff_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a view taking ``slug``: require one of ``roles`` there; sets ``g.organisation``.

    With no roles given, admin and coach are both accepted.
    """
    allowed = roles or ("admin", "coach")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(slug: str, *args: Any, **kwargs: Any) -> Any:
            g.organisation = staff_organisation(slug, allowed)
            g.roles = services.roles_of(get_session(), me(), g.organisation)
            return view(slug, *args, **kwargs)

        return wrapped

    return decorator


def owned_or_404(model: type[ModelT], public_id: str, organisation: Organisation) -> ModelT:
    """Return ``model`` with ``public_id`` belonging to ``organisation``, else 404."""
    obj = get_session().scalar(
        select(model).where(model.public_id == public_id, model.organisation_id == organisation.id)  # type: ignore[attr-defined]
    )
    if obj is None:
        abort(404)
    return obj


def client_of_or_404(public_id: str, organisation: Organisation) -> User:
    """Return the client with ``public_id`` if they are a client of ``organisation``, else 404."""
    user = get_session().scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.public_id == public_id, Membership.organisation_id == organisation.id, Membership.role == "client")
    )
    if user is None:
        abort(404)
    return user
