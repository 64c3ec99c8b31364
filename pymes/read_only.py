"""The one way a write is refused on an account that is read-only, whatever made it so
(a lapsed subscription, a deletion scheduled): a 403 page that says why and what to do,
and for htmx (which does not swap a 403) the same message as a flash on a reload."""
from __future__ import annotations

from flask import flash, render_template

from .htmx import is_htmx

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def refuse(message: str, *, action_url: str, action_label: str, others: str, note: str = ""):
    """``action_url``/``action_label``: the owner's way out; ``others``: what everyone else
    is told; ``note``: an extra line under the message."""
    page = render_template("errors/read_only.html", message=message, note=note, action_url=action_url,
                           action_label=action_label, others=others)
    if is_htmx():
        flash(message, "error")
        return page, 403, {"HX-Refresh": "true"}
    return page, 403
