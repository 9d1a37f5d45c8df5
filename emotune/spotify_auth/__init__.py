"""The optional Spotify login and "save as a playlist in my account", under ``/spotify``."""

from flask import Blueprint

bp = Blueprint("spotify_auth", __name__, url_prefix="/spotify")

from emotune.spotify_auth import views  # noqa: E402,F401  (registers the routes on bp)
