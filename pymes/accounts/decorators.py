"""The access vocabulary: every tenant route says who may use it with one of these."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .models import Role

__all__ = ["login_required", "roles_required", "owner_required", "manager_required"]


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
