"""The job queue: RQ on Redis when ``REDIS_URL`` is set, inline otherwise.

If Redis is configured but down, the job runs inline instead of failing the request
(OPS-3): a slower request beats a lost e-mail."""
from __future__ import annotations

import logging
from contextlib import contextmanager

from flask import current_app

log = logging.getLogger(__name__)


def _queue():
    from redis import Redis
    from rq import Queue

    redis = Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=0.5, socket_timeout=1)
    return Queue("default", connection=redis)


def enqueue(func, *args, **kwargs) -> None:
    """Run ``func(*args, **kwargs)`` in the worker, or now when there is no queue."""
    if current_app.config.get("REDIS_URL") and not current_app.config.get("JOBS_INLINE"):
        try:
            _queue().enqueue(func, *args, **kwargs)
            return
        except Exception as exc:  # Redis down or unreachable
            log.warning("queue unavailable, running %s inline: %s", func.__name__, exc.__class__.__name__)
    func(*args, **kwargs)


def run_worker() -> None:
    """Process jobs with the app's context pushed (the Procfile's ``worker``)."""
    from rq import Worker

    queue = _queue()
    Worker([queue], connection=queue.connection).work(with_scheduler=False)


class JobIncomplete(Exception):
    """A scheduled job went through every business but some failed (logged one by one):
    the command exits non-zero so cron and monitoring notice."""

    def __init__(self, job: str, done: int, failed: list[int]):
        super().__init__(f"{job}: {len(failed)} businesses failed: {', '.join(map(str, failed))}")
        self.job, self.done, self.failed = job, done, failed


class EachTenant:
    """Scheduled jobs (digests, escalations, follow-ups, feedback requests, billing sync,
    purge) run business by business. One business's failure (a bad row, a mail error)
    is rolled back and logged with the business's id, and the loop goes on: every later
    business still gets its digest. ``finish`` then raises ``JobIncomplete`` if any
    business failed (issue 20, finding 4).

        run = EachTenant("send-digests")
        for business_id in ids:
            with run.tenant(business_id):
                ...
        return run.finish(sent)
    """

    def __init__(self, job: str):
        self.job = job
        self.failed: list[int] = []

    @contextmanager
    def tenant(self, business_id: int):
        from .accounts.models import Business
        from .extensions import db
        from .i18n import in_country
        from .tenancy import bound

        try:
            with bound(business_id):
                business = db.session.get(Business, business_id)
                # e-mails written here use the words of the business's country (es_ES)
                with in_country(business.country if business is not None else None):
                    yield
        except Exception:  # noqa: BLE001 - isolate the business, log it, go on with the next
            db.session.rollback()
            log.exception("%s failed for business=%s; going on with the next business", self.job, business_id)
            self.failed.append(business_id)

    def finish(self, done: int):
        if self.failed:
            raise JobIncomplete(self.job, done, self.failed)
        return done
