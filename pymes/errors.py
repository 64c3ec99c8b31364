"""Friendly error pages. Every error a user can reach has a page in their language."""
from __future__ import annotations

import logging

from flask import render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

KNOWN = {400, 403, 404, 405, 410, 413, 422, 429, 500, 503}


def _page(code: int, **context):
    # lang_next="/": an error page never echoes the URL (it may carry a secret), so every
    # 404 is the same page whatever was asked for.
    return render_template("errors/error.html", code=code, lang_next="/", **context), code


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(400, csrf=True)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code not in KNOWN:
            return error
        return _page(code)

    @app.errorhandler(OperationalError)
    def database_down(error):
        from .extensions import db

        db.session.rollback()
        log.error("database unavailable: %s", error.__class__.__name__)
        # The page must not ask the database again (who is logged in, their unread
        # count, their business's banners): drawn for an anonymous visitor, or the
        # handler itself fails and the visitor gets a bare 500 (OPS-4).
        from flask import g

        from .extensions import login_manager

        g._login_user = login_manager.anonymous_user()
        return _page(503)

    @app.errorhandler(Exception)
    def server_error(error):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("unhandled error")
        from .extensions import db

        db.session.rollback()
        return _page(500)
