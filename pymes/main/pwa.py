"""The installable app (issue 21, point 2): the web-app manifest, the favicon and the
service worker, served from the root so that the worker's scope is the whole site.

The worker (static/js/sw.js) keeps the app shell (stylesheets, scripts, icons) and the
agenda pages a seller opened, so that today's and the next days' visits stay readable
on a visit with no signal; it never keeps anything else (public feedback pages are
``no-store`` and are passed straight to the network). Log-out clears its caches
(``Clear-Site-Data`` on the log-out answer and static/js/pwa.js on the next page).
A page it cannot fetch and did not keep is answered with the kept ``/offline`` page
(never a public page: those go to the network untouched)."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, send_from_directory
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from .routes import bp

ICONS = [
    {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
    {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
    {"src": "/static/icons/maskable-192.png", "sizes": "192x192", "type": "image/png", "purpose": "maskable"},
    {"src": "/static/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
]
THEME = "#1d4ed8"


@bp.get("/manifest.webmanifest")
def manifest():
    """The business's name when a member asks (what the phone shows under the icon)."""
    name = current_user.business.name if current_user.is_authenticated else "Fideliza"
    response = jsonify({
        "name": name if name == "Fideliza" else f"{name} · Fideliza",
        "short_name": name[:12],
        "description": _("Keep your key clients after the sale."),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": ICONS,
    })
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/favicon.ico")
def favicon():
    response = send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/x-icon", max_age=86400)
    return response


@bp.get("/sw.js")
def service_worker():
    """Served from the root (its scope is the whole site) and never from an old copy:
    the browser checks it on each navigation and a new version takes over."""
    response = send_from_directory(current_app.static_folder, "js/sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/csrf-token")
@login_required
def csrf_token():
    """A fresh CSRF token for the phone's outbox of outcomes logged offline: the one in
    the page it kept may have expired by the time the connection returns."""
    return jsonify(token=generate_csrf())


@bp.get("/offline")
@login_required
def offline():
    """What the worker shows for a page it cannot fetch and did not keep (no signal):
    kept with the agenda, in the member's language, it says there is no connection and
    what still works (the agenda it kept, outcomes logged on the phone)."""
    return render_template("main/offline.html")
