"""The access vocabulary: every tenant route says who may use it with one of these."""
from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .models import Role

__all__ = ["login_required", "roles_required", "owner_required", "manager_required", "confirmed_required"]


def roles_required(*roles: str):
    """Logged in, and one of ``roles``; anyone else gets the friendly 403 page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


owner_required = roles_required(Role.OWNER.value)
manager_required = roles_required(Role.OWNER.value, Role.MANAGER.value)


def confirmed_required(view):
    """AUTH-5: actions that reach people outside the business (feedback links, payments)
    wait until the user has confirmed their e-mail address."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.email_confirmed:
            flash(_("Confirm your e-mail address first: we sent you a link."), "error")
            return redirect(url_for("main.home"), code=303)
        return view(*args, **kwargs)

    return wrapped
