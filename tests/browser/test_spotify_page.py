"""Spotify on the result page, in the browser, against the local Spotify stand-in: connect (the login
comes back to the result), the account's name, "Save to Spotify" with a link to the new playlist,
disconnect, and each failure as a sentence (expired login, account not allowed, rate limit,
unreachable). Without a Spotify app the controls are hidden and the page says why. Desktop and
phone, light and dark, axe-core clean in each state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import photos
from tests.browser.conftest import ARTIFACTS, _context_and_page, _finish
from tests.browser.flows import open_app, upload, wait_for_result
from tests.browser.stack import REPO_ROOT, Stack
from tests.browser.test_music_app import MODES, Mode, _assert_scheme, mode, ui  # noqa: F401  (fixtures)
from tests.spotify_stub import Scripted, SpotifyStub

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def spotify_stub() -> Iterator[SpotifyStub]:
    with SpotifyStub() as stub:
        yield stub


@pytest.fixture(scope="module")
def spotify_stack(browser_model: Path, chromium_path: Path, spotify_stub: SpotifyStub) -> Iterator[Stack]:
    """The stack with a Spotify app set up (client id only: PKCE needs no secret) at the stand-in."""
    config = spotify_stub.config()
    live = Stack(model_path=browser_model, log_dir=ARTIFACTS / "logs-spotify", extra_env={
        "SPOTIFY_CLIENT_ID": config["SPOTIFY_CLIENT_ID"], "SPOTIFY_CLIENT_SECRET": "",
        "SPOTIFY_API_BASE": config["SPOTIFY_API_BASE"], "SPOTIFY_ACCOUNTS_BASE": config["SPOTIFY_ACCOUNTS_BASE"],
        "SPOTIFY_OEMBED_BASE": config["SPOTIFY_OEMBED_BASE"], "SPOTIFY_TIMEOUT_S": "2"})
    try:
        live.start()
        yield live
    finally:
        live.stop()


@pytest.fixture()
def sp(browser: Browser, spotify_stack: Stack, mode: Mode, request: pytest.FixtureRequest) -> Iterator[Page]:
    context, page, problems = _context_and_page(browser, spotify_stack, **mode.context_options())
    yield page
    _finish(request, context, page, problems)


def _result(page: Page) -> str:
    open_app(page)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    return page.locator("#history-list li").first.get_attribute("data-analysis-id")


def _connect(page: Page, analysis_id: str) -> None:
    """Connect Spotify from the result and come back to it."""
    link = page.get_by_role("link", name="Connect Spotify")
    expect(link).to_have_attribute("href", f"/spotify/login?analysis={analysis_id}")
    link.click()
    page.wait_for_url(re.compile(r"/$"))  # the query is dropped once read
    wait_for_result(page)
    expect(page.locator("#history-list li").first).to_have_attribute("data-analysis-id", analysis_id)


def test_connect_save_and_disconnect(sp: Page, mode: Mode, spotify_stub: SpotifyStub, check_a11y) -> None:
    page = sp
    analysis_id = _result(page)
    _assert_scheme(page, mode)
    expect(page.locator("#spotify-account")).to_be_hidden()
    page.get_by_text("How does saving to Spotify work?").click()
    expect(page.locator("#spotify-how-text")).to_contain_text("private playlist")
    check_a11y(page, f"Spotify not connected ({mode.name})")
    _connect(page, analysis_id)
    expect(page.locator("#spotify-name")).to_have_text("Stub User stubuser")
    expect(page.locator("#spotify-status")).to_have_text("Connected to Spotify as Stub User stubuser.")
    expect(page.get_by_role("link", name="Connect Spotify")).to_be_hidden()
    check_a11y(page, f"Spotify connected ({mode.name})")
    before = set(spotify_stub.playlists)
    with page.expect_response(lambda r: r.url.endswith("/spotify/playlists")) as info:
        page.get_by_role("button", name="Save to Spotify").click()
    made = info.value.json()
    assert info.value.status == 201, made
    created = spotify_stub.playlists[made["id"]]
    assert made["id"] not in before and created["owner"] == "stubuser" and created["public"] is False
    assert len(created["items"]) == made["tracks_added"] > 0
    link = page.get_by_role("link", name="Open it in Spotify (opens a new tab)")
    expect(link).to_have_attribute("href", f"https://open.spotify.com/playlist/{made['id']}")
    expect(page.locator("#spotify-status")).to_contain_text(f"Saved “{made['name']}”")
    check_a11y(page, f"saved to Spotify ({mode.name})")
    if mode.name == "desktop-light":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#result").screenshot(path=str(SCREENSHOTS / "spotify-connected.png"))
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("link", name="Connect Spotify")).to_be_visible()
    expect(page.locator("#spotify-account")).to_be_hidden()
    expect(page.locator("#spotify-status")).to_contain_text("Disconnected")
    assert page.request.get("/spotify/status").json()["logged_in"] is False
    check_a11y(page, f"Spotify disconnected ({mode.name})")


def test_each_spotify_failure_says_what_to_do(sp: Page, mode: Mode, spotify_stub: SpotifyStub, check_a11y) -> None:
    page = sp
    analysis_id = _result(page)
    # An account the app owner has not added: back on the result, told who can add it.
    spotify_stub.script("/v1/me", Scripted.forbidden("allowlist"))
    _connect(page, analysis_id)
    expect(page.locator("#spotify-status")).to_contain_text("up to 5")
    expect(page.get_by_role("link", name="Connect Spotify")).to_be_visible()
    check_a11y(page, f"account not allowed ({mode.name})")
    _connect(page, analysis_id)
    save = page.get_by_role("button", name="Save to Spotify")
    # Rate limited: when to retry.
    spotify_stub.script("/v1/search", Scripted.rate_limited(30))
    save.click()
    expect(page.locator("#spotify-status")).to_have_text(
        "Spotify is busy right now; nothing was lost. Try again in 30 seconds.")
    # Unreachable: nothing lost, try later.
    spotify_stub.script("/v1/me/playlists", Scripted.unreachable())
    save.click()
    expect(page.locator("#spotify-status")).to_contain_text("could not be reached")
    expect(page.locator("#spotify-status")).to_contain_text("nothing was lost")
    check_a11y(page, f"Spotify unreachable ({mode.name})")
    # Login expired: connect again, and the control to do it is back.
    spotify_stub.expire_user_tokens()
    save.click()
    expect(page.locator("#spotify-status")).to_have_text(
        "Your Spotify login has expired or was revoked: connect Spotify again.")
    expect(page.get_by_role("link", name="Connect Spotify")).to_be_visible()
    expect(page.locator("#spotify-account")).to_be_hidden()
    check_a11y(page, f"Spotify login expired ({mode.name})")


def test_without_a_spotify_app_the_controls_hide_and_the_page_says_why(ui: Page, mode: Mode, check_a11y) -> None:
    page = ui
    _result(page)
    assert page.request.get("/spotify/status").json()["login_available"] is False
    expect(page.locator("#spotify-how-text")).not_to_be_empty()
    expect(page.get_by_role("link", name="Connect Spotify")).to_be_hidden()
    expect(page.get_by_role("button", name="Save to Spotify")).to_be_hidden()
    page.get_by_text("How does saving to Spotify work?").click()
    expect(page.locator("#spotify-how-text")).to_contain_text("not available on this EmoTune")
    expect(page.locator("#spotify-how-text")).to_contain_text("SPOTIFY_CLIENT_ID")
    check_a11y(page, f"Spotify not set up ({mode.name})")
