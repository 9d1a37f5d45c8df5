"""gunicorn settings of every EmoTune web process: ``emotune``, the README's production command,
the integration tests and the HTTP benchmarks all start gunicorn with ``-c python:emotune.gunicorn_conf``.

gevent workers: a request waiting on I/O (the database, Redis, a client reading an event stream)
yields to the others, so a page following its analysis over server-sent events holds a greenlet,
not one of a few threads. The worker applies gevent's monkey patching before loading the app;
psycopg 3 (3.1.14 and later) and redis-py cooperate with it.
"""

GUNICORN_CONFIG = "python:emotune.gunicorn_conf"  # what -c takes (for the commands that start gunicorn)

worker_class = "gevent"
# Simultaneous clients per web process (open event streams included).
worker_connections = 1000
