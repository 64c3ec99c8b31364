"""The business's active team, as pick lists and name look-ups show it."""
from __future__ import annotations

from flask import g
from sqlalchemy import select

from ..extensions import db
from .models import User


def active_team() -> list[User]:
    """The bound business's active users by name, read once per request (a page's
    choices, names and forms all ask for them)."""
    if "_active_team" not in g:
        g._active_team = db.session.execute(select(User).where(User.active.is_(True)).order_by(User.name)
                                            ).scalars().all()
    return g._active_team
