"""The job queue: RQ on Redis when ``REDIS_URL`` is set, inline otherwise.

If Redis is configured but down, the job runs inline instead of failing the request
(OPS-3): a slower request beats a lost e-mail."""
from __future__ import annotations

import logging

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
