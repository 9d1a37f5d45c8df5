"""gunicorn settings of every EmoTune web process: ``emotune``, the README's production command,
the integration tests and the HTTP benchmarks all start gunicorn with ``-c python:emotune.gunicorn_conf``.

gevent workers: a request waiting on I/O (the database, Redis, a client reading an event stream)
yields to the others, so a page following its analysis over server-sent events holds a greenlet,
not one of a few threads. The worker applies gevent's monkey patching before loading the app;
psycopg 3 (3.1.14 and later) and redis-py cooperate with it.

Slow and stalled clients: each worker takes up to ``worker_connections`` at once, far more than
honest traffic needs, so a thousand stalled uploads still leave room for /healthz and real users;
``emotune.slow_bodies`` gives a stalled body up after 10 s of silence (408) and caps the request
bodies a worker holds (256 MB; beyond it, 503 with Retry-After), and a quiet keep-alive connection
is closed after ``keepalive`` seconds. A front proxy should still buffer request bodies (nginx does
by default) so that slow clients never reach gunicorn at all.
"""

import resource

GUNICORN_CONFIG = "python:emotune.gunicorn_conf"  # what -c takes (for the commands that start gunicorn)

worker_class = "gevent"
# Simultaneous clients per web process (open event streams and stalled uploads included).
worker_connections = 4000
# Seconds an idle keep-alive connection is kept (and an unread body drained) before it is closed.
keepalive = 5
# File descriptors a worker needs beyond its client sockets (database, broker, logs, libraries).
SPARE_FDS = 200


def raise_fd_limit(wanted: int = worker_connections + SPARE_FDS) -> int:
    """Raise this process's open-file soft limit towards ``wanted`` (never above the hard limit).

    Distributions start processes at 1024, fewer than ``worker_connections``; the workers inherit
    the raised limit from the master. Returns the soft limit now in force.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft



def on_starting(server: object) -> None:
    """gunicorn hook, in the master before any worker starts: room for ``worker_connections``."""
    raise_fd_limit()
