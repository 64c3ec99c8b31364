"""htmx helpers: fragment-or-page rendering, client redirects, out-of-band flashes."""
from __future__ import annotations

from flask import make_response, render_template, request


def is_htmx() -> bool:
    """A real htmx swap: not a boosted navigation, not a history restore."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(page: str, fragment: str | None = None, status: int = 200, **context):
    """Render ``fragment`` for an htmx swap, ``page`` otherwise (the page includes the
    fragment, so every URL renders whole)."""
    template = fragment if (fragment and is_htmx()) else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def render_cached(page: str, name: str, parts: tuple, context, per_session: bool = False, max_age: int | None = None,
                  **live):
    """``page`` with its content block drawn from the fragment cache (``pymes.cache``):
    ``context()`` gives what the content needs and runs only when the fragment is not
    kept; ``live`` is what the rest of the page needs. The layout (header, flashes,
    banners) is drawn on every request."""
    from . import cache

    html = cache.fragment(name, parts, lambda: render_template(page, content_only=True, **context()), per_session,
                          max_age or cache.FRAGMENT_MAX_AGE)
    return render(page, content_html=html, **live)


def hx_redirect(url: str):
    """Navigate the browser: ``HX-Redirect`` for htmx, a normal 303 otherwise."""
    from flask import redirect

    if is_htmx():
        from werkzeug.urls import iri_to_uri

        response = make_response("", 200)
        # A header is Latin-1: a path with "ñ" or Cyrillic goes percent-encoded, as the
        # Location of a normal redirect does (issue 20, finding 13: it was a 500).
        response.headers["HX-Redirect"] = iri_to_uri(url)
        return response
    return redirect(url, code=303)
