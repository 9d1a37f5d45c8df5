"""The worker's own /metrics endpoint.

Analyses are counted as their transactions commit (``emotune.metrics_analyses``, installed by the
app factory), catalogue refreshes by their task's signals (``emotune.metrics_tasks``, connected by
the worker's entry point). With EMOTUNE_WORKER_METRICS_PORT set, the worker's main process serves
``GET /metrics`` on that port: every process of the worker (its multiprocess directory,
``worker.metrics_dir``), under the web's access rule
(``emotune.health.views.may_see_detail``: loopback clients not relayed by a proxy, holders of
EMOTUNE_READYZ_TOKEN).
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from flask import Flask
from prometheus_client.exposition import ThreadingWSGIServer

from emotune.metrics_http import bp as metrics_bp

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *_: Any) -> None:  # scrapes every few seconds would flood the worker's log
        pass


def metrics_app(config: dict[str, Any]) -> Flask:
    """A Flask app with only the /metrics route, under the web's access rule."""
    app = Flask("emotune.worker_metrics")
    app.config.update(EMOTUNE_READYZ_TOKEN=config.get("EMOTUNE_READYZ_TOKEN"))
    app.register_blueprint(metrics_bp)
    return app


def serve_metrics(config: dict[str, Any], host: str = "") -> ThreadingWSGIServer | None:
    """Serve the worker's /metrics on EMOTUNE_WORKER_METRICS_PORT in a daemon thread; None when unset."""
    port = config.get("EMOTUNE_WORKER_METRICS_PORT") or 0
    if not port:
        return None
    server = make_server(host, port, metrics_app(config), ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("Worker metrics at http://%s:%s/metrics", host or "0.0.0.0", port)
    return server
