"""Fixtures for recommender tests: a catalogue database without Flask, and the Spotify stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from tests.spotify_stub import SpotifyStub

from recommender.base import Base
from recommender.seed import seed_catalogue
from recommender.spotify_client import SpotifySettings


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    """A SQLite file database holding only the catalogue tables, foreign keys enforced."""
    engine = create_engine(f"sqlite:///{tmp_path / 'catalogue.db'}")
    event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture
def seeded(session: Session) -> Session:
    """The catalogue as ``flask seed-playlists`` leaves it."""
    seed_catalogue(session)
    return session


@pytest.fixture
def stub() -> Iterator[SpotifyStub]:
    """A running Spotify stand-in on a free local port."""
    with SpotifyStub() as server:
        yield server


@pytest.fixture
def settings(stub: SpotifyStub) -> SpotifySettings:
    """Client settings pointing at the stand-in, with a short timeout for the slow case."""
    return SpotifySettings.from_config({**stub.config(), "SPOTIFY_TIMEOUT_S": 1})


@pytest.fixture
def make_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build the real Flask app on a temporary instance folder, migrated like every other test app."""
    from tests.conftest import make_app as make_migrated_app

    def build(**overrides):  # type: ignore[no-untyped-def]
        settings = {"WTF_CSRF_ENABLED": False, "SPOTIFY_CLIENT_ID": None, "SPOTIFY_CLIENT_SECRET": None}
        return make_migrated_app(tmp_path / "instance", **{**settings, **overrides})

    return build


@pytest.fixture
def stub_app(make_app, stub: SpotifyStub):  # type: ignore[no-untyped-def]
    """The app pointed at the Spotify stand-in, catalogue seeded."""
    from emotune.extensions import db

    app = make_app(**stub.config(redirect_uri="http://127.0.0.1:5000/spotify/callback"))
    with app.app_context():
        seed_catalogue(db.session)
    return app
