"""The real spotipy client against the local stand-in, one test per scripted case."""

from __future__ import annotations

import time

import pytest
from tests.spotify_stub import Scripted, SpotifyStub

from recommender.errors import (
    RateLimited,
    SpotifyAuthError,
    SpotifyNotConfigured,
    SpotifyUnavailable,
)
from recommender.spotify_client import CatalogueClient, SpotifySettings, parse_playlist


def test_normal_search_returns_parsed_playlists(stub: SpotifyStub, settings: SpotifySettings) -> None:
    page = CatalogueClient(settings).search_playlists("calm acoustic")
    assert 0 < len(page.items) <= 10
    first = page.items[0]
    assert first.name == "Calm Acoustic Mix 0"
    assert first.owner == "Spotify" and first.track_count == 30
    assert first.url == f"https://open.spotify.com/playlist/{first.spotify_id}"
    assert page.total == 25 and page.next_offset == 10
    search = [r for r in stub.requests if r.path == "/v1/search"]
    assert search[0].query["limit"] == ["10"] and search[0].query["type"] == ["playlist"]
    assert stub.paths("POST") == ["/api/token"]  # client credentials, once


def test_paging_follows_pages_of_ten_until_the_end(stub: SpotifyStub, settings: SpotifySettings) -> None:
    pages = list(CatalogueClient(settings).iter_playlists("happy hits", max_pages=5))
    assert [len(p.items) + p.skipped for p in pages] == [10, 10, 5]
    offsets = [r.query["offset"][0] for r in stub.requests if r.path == "/v1/search"]
    assert offsets == ["0", "10", "20"]
    assert all(r.query["limit"] == ["10"] for r in stub.requests if r.path == "/v1/search")
    assert pages[-1].next_offset is None
    # The null item the stand-in mixes in (index 4) is skipped, not fatal.
    assert pages[0].skipped == 1


def test_limit_above_ten_is_capped(stub: SpotifyStub, settings: SpotifySettings) -> None:
    page = CatalogueClient(settings).search_playlists("sad songs", limit=50)
    assert len(page.items) + page.skipped == 10


def test_429_raises_rate_limited_with_retry_after_without_sleeping(
    stub: SpotifyStub, settings: SpotifySettings
) -> None:
    stub.script("/v1/search", Scripted.rate_limited(3600))
    client = CatalogueClient(settings)
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        client.search_playlists("angry rock")
    assert caught.value.retry_after == 3600
    assert time.monotonic() - started < 5  # spotipy's own retry would have slept an hour
    assert len([p for p in stub.paths() if p == "/v1/search"]) == 1  # no silent retry


def test_500_raises_spotify_unavailable_once(stub: SpotifyStub, settings: SpotifySettings) -> None:
    stub.script("/v1/search", Scripted.server_error(500))
    with pytest.raises(SpotifyUnavailable):
        CatalogueClient(settings).search_playlists("angry rock")
    assert stub.paths().count("/v1/search") == 1


def test_slow_answer_past_timeout_raises_spotify_unavailable(
    stub: SpotifyStub, settings: SpotifySettings
) -> None:
    stub.script("/v1/search", Scripted.slow(2.5))
    started = time.monotonic()
    with pytest.raises(SpotifyUnavailable, match="in time"):
        CatalogueClient(settings).search_playlists("angry rock")
    assert time.monotonic() - started < 2.4  # the 1 s timeout fired, not the 2.5 s answer


def test_malformed_json_body_is_logged_and_skipped(
    stub: SpotifyStub, settings: SpotifySettings, caplog: pytest.LogCaptureFixture
) -> None:
    stub.script("/v1/search", Scripted.malformed())
    page = CatalogueClient(settings).search_playlists("angry rock")
    assert page.items == [] and page.malformed
    assert "Malformed Spotify search body" in caplog.text


def test_empty_result_gives_an_empty_last_page(stub: SpotifyStub, settings: SpotifySettings) -> None:
    stub.script("/v1/search", Scripted.empty_search())
    pages = list(CatalogueClient(settings).iter_playlists("nothing at all", max_pages=3))
    assert len(pages) == 1 and pages[0].items == [] and pages[0].next_offset is None


def test_wrong_client_secret_is_a_clear_auth_error(stub: SpotifyStub) -> None:
    config = {**stub.config(), "SPOTIFY_CLIENT_SECRET": "wrong"}
    with pytest.raises(SpotifyAuthError, match="SPOTIFY_CLIENT_SECRET"):
        CatalogueClient(SpotifySettings.from_config(config)).search_playlists("x")


def test_missing_credentials_refuse_to_build_a_client() -> None:
    with pytest.raises(SpotifyNotConfigured, match="seeded"):
        CatalogueClient(SpotifySettings.from_config({}))


def test_parse_playlist_accepts_old_tracks_field_and_rejects_junk() -> None:
    item = {"id": "abc123", "name": "<b>Calm</b> &amp; Quiet", "description": 'A <a href="x">link</a>',
            "owner": {"display_name": "Spotify"}, "tracks": {"total": 12}, "images": None}
    parsed = parse_playlist(item)
    assert parsed is not None
    assert (parsed.name, parsed.description, parsed.track_count) == ("Calm & Quiet", "A link", 12)
    assert parse_playlist(None) is None
    assert parse_playlist({"id": "../../etc", "name": "x"}) is None
    assert parse_playlist({"id": "abc", "name": 5}) is None
