"""The browser experience: the one page people use, its templates and its static assets.

The page is plain HTML with a small ES-module script (no framework, no CDN); it talks only to
the JSON API under ``/api``.
"""

from flask import Blueprint

bp = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/pages",
)

from emotune.pages import views  # noqa: E402,F401  (registers the routes on bp)
