"""Who may read or change an analysis: the browser session that created it, or its token's holder.

An API client without cookies gets a secret token once, in the 202 of ``POST /api/analyses``, and
sends it as ``Authorization: Bearer <token>``; only its sha256 is stored. Everyone else gets the
same 404 as for an unknown id, so ids of other people's analyses are never confirmed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import request

from emotune.api.browser_session import history_key
from emotune.models import Analysis


def new_token() -> tuple[str, str]:
    """A fresh access token and the hash to store for it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """The stored form of an access token (sha256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def voter_key(analysis: Analysis) -> str:
    """Whose vote it is: the analysis's own browser session, or its token for a cookie-less client.

    Only requests that ``may_access`` the analysis get this far, so a session never votes as another.
    """
    return analysis.session_key or f"token:{analysis.access_token_hash}"


def may_access(analysis: Analysis) -> bool:
    """Whether this request comes from the analysis's own browser session or carries its token."""
    key = history_key()
    if key is not None and analysis.session_key is not None and hmac.compare_digest(key, analysis.session_key):
        return True
    token = bearer_token()
    return bool(token and analysis.access_token_hash
                and hmac.compare_digest(token_hash(token), analysis.access_token_hash))
