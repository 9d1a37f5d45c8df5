"""Liveness (/healthz) and readiness (/readyz) for load balancers and operators."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from emotune.health import views  # noqa: E402,F401  (registers the routes on bp)
