"""gunicorn settings for production (``gunicorn -c gunicorn.conf.py wsgi:app``)."""
import multiprocessing
import os

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# One thread per worker (gunicorn's sync worker): concurrency comes from processes. With
# two threads per worker, bench/faults saw a worker die of SIGSEGV every few minutes under
# load on SQLite, two threads inside SQLAlchemy's compiled result fetching at once
# (faulthandler, SQLAlchemy 2.1.9, CPython 3.11.7); the pages are CPU-bound, so threads
# bought no throughput under the GIL either. GUNICORN_THREADS raises it knowingly.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 20
keepalive = 5
# A worker is replaced after this many requests (a leak backstop). At 2,000 a busy worker
# was replaced every few seconds, and each replacement loaded the app, compiled the
# templates and emptied its caches anew: bench/run saw p95s near one second on pages
# whose p50 was 5 ms. Preloaded, a new worker is a fork of a warm master.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = 5000
preload_app = True
accesslog = os.environ.get("ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'

from gunicorn.glogging import Logger  # noqa: E402

from pymes.logs import SECRET as _SECRET  # noqa: E402  (the app's own redaction: tokens, referral codes)


class RedactingLogger(Logger):
    """E-mailed and public links carry a secret in the path: it never reaches the log."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("U", "r", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = _SECRET.sub("[redacted]", atoms[key])
        return atoms


logger_class = RedactingLogger


def when_ready(server):
    """In the master, before the first fork: compile every template once, so that no
    worker compiles them on its first requests."""
    from pymes import warm_up

    warm_up(server.app.wsgi())


def post_fork(server, worker):
    """A worker never shares the master's database connections (none should exist;
    this makes sure): each process opens its own."""
    from pymes.extensions import db

    app = server.app.wsgi()
    if "sqlalchemy" not in app.extensions:  # bench/reference.py runs under this file too
        return
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
