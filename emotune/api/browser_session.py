"""What the API remembers per browser, in the signed session cookie: a history key and consent.

The history key is a random token naming this browser's analyses in the database; no personal
data is kept in the cookie.
"""

from __future__ import annotations

import secrets

from flask import session

HISTORY_KEY = "history_key"
# Shared with emotune.pages.views, which reads it to decide whether to show the consent notice.
CONSENT_KEY = "consent"


def history_key(create: bool = False) -> str | None:
    """This browser's history key; with ``create`` a new one is made when there is none."""
    key = session.get(HISTORY_KEY)
    if key is None and create:
        key = secrets.token_urlsafe(24)
        session[HISTORY_KEY] = key
        session.permanent = True
    return key
