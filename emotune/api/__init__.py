"""The JSON API under ``/api``: analyses, their recommendations and feedback, history, consent."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from emotune.api import analyses, contract, corrections, errors, events, session_routes, votes  # noqa: E402,F401  (register routes)
