"""A local stand-in for Spotify's accounts service and Web API, for tests (see ``server.py``)."""

from .server import REMOVED_ENDPOINTS, Scripted, SpotifyStub

__all__ = ["REMOVED_ENDPOINTS", "Scripted", "SpotifyStub"]
