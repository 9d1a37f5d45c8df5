"""Two rules for every response: personal data is never cached, and only a refusal says when to retry.

Analyses, their events, the history and the Spotify status describe one person (their face's
emotion, their account), so a shared cache must not keep them: ``Cache-Control: no-store`` on
every ``/api/`` and ``/spotify/`` answer. Flask-Limiter adds ``Retry-After`` to every answer of a
rate-limited route, a successful 202 included, where it would tell a client to wait for nothing;
it stays only on 429 and 503, the answers that ask for a retry.
"""

from __future__ import annotations

from flask import Flask, Response, request

PERSONAL_PREFIXES = ("/api/", "/spotify/")
RETRY_STATUSES = frozenset({429, 503})


def apply(response: Response) -> Response:
    """Set ``no-store`` on personal data and drop ``Retry-After`` from answers that ask no retry."""
    if request.path.startswith(PERSONAL_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    if response.status_code not in RETRY_STATUSES:
        response.headers.pop("Retry-After", None)
    return response


def init_app(app: Flask) -> None:
    """Run ``apply`` after every other response hook (Flask runs them last-registered first)."""
    app.after_request_funcs.setdefault(None, []).insert(0, apply)
