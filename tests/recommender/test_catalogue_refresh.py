"""Refreshing the catalogue from the Spotify stand-in; removed endpoints never called."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.spotify_stub import REMOVED_ENDPOINTS, Scripted, SpotifyStub
from sqlalchemy import select
from sqlalchemy.orm import Session

from recognizer.emotions import EMOTIONS
from recommender.errors import RateLimited
from recommender.models import Playlist, PlaylistLink
from recommender.refresh import refresh_catalogue, spotify_configured
from recommender.service import recommend
from recommender.spotify_client import CatalogueClient, SpotifySettings
from recommender.strategies import STRATEGIES

REPO = Path(__file__).resolve().parents[2]


def searched_pairs(session: Session) -> set[tuple[str, str]]:
    rows = session.execute(
        select(PlaylistLink.emotion, PlaylistLink.strategy).join(PlaylistLink.playlist).where(Playlist.source == "search")
    ).all()
    return set(rows)


def test_refresh_fills_every_emotion_and_strategy(seeded: Session, stub: SpotifyStub, settings: SpotifySettings) -> None:
    report = refresh_catalogue(seeded, CatalogueClient(settings), pages=1)
    assert report.profiles == 21
    assert searched_pairs(seeded) == {(e, s) for e in EMOTIONS for s in STRATEGIES}
    assert report.dropped["spam"] > 0 and report.dropped["empty"] > 0 and report.dropped["off_topic"] > 0
    assert report.malformed > 0  # the null items
    names = seeded.scalars(select(Playlist.name).where(Playlist.source == "search")).all()
    assert not any("follow" in n.lower() or "lullabies" in n.lower() for n in names)
    # Duplicates merge by Spotify id: the same search result under two profiles is one row.
    ids = seeded.scalars(select(Playlist.spotify_id)).all()
    assert len(ids) == len(set(ids))
    assert all(r.query["limit"] == ["10"] for r in stub.requests if r.path == "/v1/search")
    assert stub.removed_calls == []


def test_refresh_one_emotion_and_strategy_only(seeded: Session, stub: SpotifyStub, settings: SpotifySettings) -> None:
    report = refresh_catalogue(seeded, CatalogueClient(settings), emotion="Fear", strategy="calm", pages=1)
    assert report.profiles == 1
    assert searched_pairs(seeded) == {("Fear", "calm")}
    recs = recommend(seeded, "Fear", "calm", limit=50, explore=False)
    assert any(r.name.startswith("Soothing Piano") or r.name.startswith("Calm Relaxing") for r in recs)
    assert any(r.owner == "Spotify" and r.name == "Peaceful Piano" for r in recs)  # curated stays


def test_stale_searched_playlists_expire(seeded: Session, stub: SpotifyStub, settings: SpotifySettings) -> None:
    refresh_catalogue(seeded, CatalogueClient(settings), emotion="Happy", strategy="match", pages=1)
    later = datetime.now(timezone.utc) + timedelta(days=30)
    stub.script("/v1/search", *[Scripted.empty_search() for _ in range(4)])
    report = refresh_catalogue(seeded, CatalogueClient(settings), emotion="Happy", strategy="match", now=later, pages=1)
    assert report.expired > 0
    assert not seeded.scalars(select(Playlist).where(Playlist.source == "search", Playlist.active.is_(True))).all()
    searched = set(seeded.scalars(select(Playlist.spotify_id).where(Playlist.source == "search")))
    assert not searched & {r.spotify_id for r in recommend(seeded, "Happy", "match", limit=50)}


def test_rate_limit_keeps_finished_profiles_and_raises(seeded: Session, stub: SpotifyStub, settings: SpotifySettings) -> None:
    # Angry/calm has 3 terms, 1 page each; the 4th search (Angry/lift) is refused.
    stub.script("/v1/search", Scripted(passthrough=True), Scripted(passthrough=True),
                Scripted(passthrough=True), Scripted.rate_limited(30))
    with pytest.raises(RateLimited) as caught:
        refresh_catalogue(seeded, CatalogueClient(settings), emotion="Angry", pages=1)
    assert caught.value.retry_after == 30
    seeded.rollback()
    assert ("Angry", "calm") in searched_pairs(seeded)


def test_search_failure_leaves_recommendations_from_the_catalogue(
    seeded: Session, stub: SpotifyStub, settings: SpotifySettings
) -> None:
    before = [r.spotify_id for r in recommend(seeded, "Sad", "lift", explore=False)]
    stub.script("/v1/search", Scripted.server_error(503))
    with pytest.raises(Exception):
        refresh_catalogue(seeded, CatalogueClient(settings), emotion="Sad", strategy="lift")
    seeded.rollback()
    assert [r.spotify_id for r in recommend(seeded, "Sad", "lift", explore=False)] == before


def test_spotify_configured_says_plainly_what_is_missing() -> None:
    ok, message = spotify_configured({})
    assert not ok and "SPOTIFY_CLIENT_ID" in message and "seeded" in message
    ok, message = spotify_configured({"SPOTIFY_CLIENT_ID": "a", "SPOTIFY_CLIENT_SECRET": "b"})
    assert ok and "refreshes" in message


def test_no_code_calls_a_removed_endpoint() -> None:
    """Scan our sources for the paths Spotify removed for Development Mode apps."""
    removed = re.compile(
        # spotipy methods that call removed endpoints, and the raw paths themselves
        r"\.(recommendations|recommendation_genre_seeds|audio_features|audio_analysis|"
        r"artist_related_artists|featured_playlists|category_playlists)\(|"
        r"v1/recommendations|\(\s*[\"']recommendations[\"'?]|audio-features|audio-analysis|related-artists|"
        r"browse/featured-playlists|browse/categories/"
    )
    offenders = []
    for folder in ("recommender", "emotune", "worker"):
        for path in (REPO / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if removed.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []
    # The stand-in itself recognises each removed path, so a call would also show in removed_calls.
    assert len(REMOVED_ENDPOINTS) == 6
