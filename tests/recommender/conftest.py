"""Fixtures for recommender tests: a catalogue database without Flask, and the Spotify stand-in."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

# The stand-in lives in tests/spotify_stub so browser and integration tests can share it.
# Appended, not prepended: tests/ holds folders named like real packages (tests/recognizer).
TESTS_DIR = str(Path(__file__).resolve().parents[1])
if TESTS_DIR not in sys.path:
    sys.path.append(TESTS_DIR)

from spotify_stub import SpotifyStub  # noqa: E402

from recommender.base import Base  # noqa: E402
from recommender.seed import seed_catalogue  # noqa: E402
from recommender.spotify_client import SpotifySettings  # noqa: E402


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
