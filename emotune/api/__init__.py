"""The JSON API under ``/api``: analyses, their recommendations and feedback, history, consent."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from emotune.api import analyses, contract, errors, events, session_routes  # noqa: E402,F401  (register routes)
