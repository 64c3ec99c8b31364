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
max_requests = 2000
max_requests_jitter = 200
preload_app = False
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
