"""Verifying the catalogue without credentials (oEmbed), quota stops, 403 causes, unknown counts.

Everything runs against the local Spotify stand-in, through the real spotipy client and requests.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.spotify_stub import Scripted, SpotifyStub

from recommender.covers import COVER_HOSTS, safe_cover_url
from recommender.errors import Forbidden
from recommender.models import MoodProfile, Playlist
from recommender.oembed import OEmbedClient
from recommender.refresh import RefreshReport, refresh_catalogue, refresh_profile
from recommender.service import recommend
from recommender.spotify_client import CatalogueClient, SpotifySettings

GONE = "37i9dQZF1DX4sWSpwq3LiO"  # Peaceful Piano: linked under every calm pair


def oembed(settings: SpotifySettings, timeout_s: float | None = None) -> OEmbedClient:
    return OEmbedClient(settings.oembed_base, timeout_s or settings.timeout_s)


def test_oembed_refresh_stores_title_and_cover_and_retires_the_removed_one(
    seeded: Session, stub: SpotifyStub, settings: SpotifySettings
) -> None:
    total = len(seeded.scalars(select(Playlist)).all())
    stub.removed_playlists.add(GONE)
    report = refresh_catalogue(seeded, None, oembed=oembed(settings))
    assert report.retired == [GONE] and report.verified == total - 1
    assert "1 retired as gone" in report.summary() and GONE in report.summary()
    gone = seeded.scalar(select(Playlist).where(Playlist.spotify_id == GONE))
    assert gone.retired_at is not None and not gone.active and "404" in gone.retired_reason
    kept = seeded.scalars(select(Playlist).where(Playlist.spotify_id != GONE)).all()
    assert all(p.verified_by == "oembed" and p.name.startswith("Stub Playlist") for p in kept)
    assert all(safe_cover_url(p.image_url) == p.image_url is not None for p in kept)
    # Never shown again, under any emotion or strategy, even after a re-seed.
    from recommender.seed import seed_catalogue

    seed_catalogue(seeded)
    for emotion in ("Angry", "Fear", "Sad"):
        assert GONE not in {r.spotify_id for r in recommend(seeded, emotion, "calm", limit=50)}
    # Only oEmbed was asked: no credentials, no token, no Web API.
    assert set(stub.paths()) == {"/oembed"}


def test_malformed_and_slow_answers_leave_those_playlists_as_they_were(
    seeded: Session, stub: SpotifyStub, settings: SpotifySettings
) -> None:
    stub.script("/oembed", Scripted(200, raw_body=b'{"title": '), Scripted.slow(1.5))
    report = refresh_catalogue(seeded, None, oembed=oembed(settings, timeout_s=0.5))
    assert report.unverified == {"malformed": 1, "unavailable": 1}
    assert report.retired == [] and report.verified == len(seeded.scalars(select(Playlist)).all()) - 2
    unchecked = seeded.scalars(select(Playlist).where(Playlist.verified_at.is_(None))).all()
    assert len(unchecked) == 2 and all(p.active for p in unchecked)


def test_quota_exceeded_stops_the_whole_refresh_and_says_when_it_resumes(
    seeded: Session, stub: SpotifyStub, settings: SpotifySettings
) -> None:
    stub.script("/oembed", Scripted(passthrough=True), Scripted(passthrough=True), Scripted.quota_exceeded(86400))
    now = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)
    report = refresh_catalogue(seeded, CatalogueClient(settings), oembed=oembed(settings), now=now)
    assert report.verified == 2 and stub.paths().count("/oembed") == 3
    assert "/v1/search" not in stub.paths()  # nothing else is tried after the quota answer
    assert report.resumes_at == datetime(2026, 12, 2, 4, 17, tzinfo=timezone.utc)
    assert "QUOTA_EXCEEDED" in report.stopped and "2026-12-02 04:17 UTC" in report.stopped
    # What was verified before the stop is kept.
    assert len(seeded.scalars(select(Playlist).where(Playlist.verified_by == "oembed")).all()) == 2
    # Runs before the resume time ask Spotify nothing; from then on, the refresh runs again.
    asked = len(stub.requests)
    early = refresh_catalogue(seeded, CatalogueClient(settings), oembed=oembed(settings),
                              now=datetime(2026, 12, 2, 4, 0, tzinfo=timezone.utc))
    assert early.stopped and "still used up" in early.stopped and len(stub.requests) == asked
    later = refresh_catalogue(seeded, None, oembed=oembed(settings),
                              now=datetime(2026, 12, 2, 4, 17, tzinfo=timezone.utc))
    assert later.stopped is None and later.verified > 2


def test_quota_exceeded_in_search_stops_the_cli_with_the_next_run(make_app, stub: SpotifyStub) -> None:
    app = make_app(**stub.config())
    stub.script("/v1/search", Scripted.quota_exceeded(7200))
    result = app.test_cli_runner().invoke(args=["refresh-playlists", "--pages", "1"])
    assert result.exit_code == 1
    assert "QUOTA_EXCEEDED" in result.output and "04:17 UTC" in result.output
    assert stub.paths().count("/v1/search") == 1


def test_search_results_without_track_count_are_kept_as_unknown(
    seeded: Session, stub: SpotifyStub, settings: SpotifySettings
) -> None:
    profile = MoodProfile.lookup(seeded, "Fear", "calm")
    profile.search_terms = ["calm piano"]
    stub.script("/v1/search", Scripted.search_without_counts(5))
    report = RefreshReport()
    refresh_profile(seeded, CatalogueClient(settings), profile, report, pages=1)
    assert report.added == 5 and report.dropped["empty"] == 0
    found = seeded.scalars(select(Playlist).where(Playlist.source == "search")).all()
    assert len(found) == 5 and all(p.track_count is None for p in found)
    assert all(r.query["limit"] == ["10"] for r in stub.requests if r.path == "/v1/search")


@pytest.mark.parametrize(
    ("cause", "named"),
    [
        ("premium", "Premium subscription has lapsed"),
        ("allowlist", "not on the app's allowlist"),
        ("endpoint", "not available to apps in development mode"),
    ],
)
def test_each_403_names_its_cause(
    seeded: Session, stub: SpotifyStub, settings: SpotifySettings, make_app, cause: str, named: str
) -> None:
    stub.script("/v1/search", Scripted.forbidden(cause))
    with pytest.raises(Forbidden) as caught:
        CatalogueClient(settings).search_playlists("calm piano")
    assert named in caught.value.message
    app = make_app(**stub.config())
    stub.script("/v1/search", Scripted.forbidden(cause))
    result = app.test_cli_runner().invoke(args=["refresh-playlists", "--emotion", "Fear", "--strategy", "calm"])
    assert result.exit_code == 1 and named in result.output


def test_csp_allows_exactly_the_cover_hosts(make_app) -> None:
    app = make_app()
    csp = app.test_client().get("/").headers["Content-Security-Policy"]
    img = next(part.split()[1:] for part in csp.split("; ") if part.startswith("img-src"))
    assert img == ["'self'", "blob:", "data:", *(f"https://{h}" for h in COVER_HOSTS)]
    assert not any("*" in source for source in img)
    # What oEmbed and the Web API hand out is on those hosts; anything else never reaches a card.
    assert safe_cover_url("https://image-cdn-ak.spotifycdn.com/image/ab67706c0000da84abc")
    assert safe_cover_url("https://i.scdn.co/image/ab67706f00000002abc")
    assert safe_cover_url("https://evil.example/cover.png") is None
    assert safe_cover_url("http://i.scdn.co/image/x") is None
