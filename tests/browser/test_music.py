"""The strategy switch re-ranks without a new photo; a thumbs-up is stored."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from recommender.models import Feedback, Playlist
from tests.browser import photos
from tests.browser.flows import open_app, upload, wait_for_result
from tests.browser.stack import Stack


def _card_names(page: Page) -> list[str]:
    return page.locator("#playlists li.card .card-name").all_inner_texts()


def _analysis_id(page: Page) -> str:
    return page.evaluate("() => document.querySelector('#history-list li')?.dataset.analysisId")


LABELS = {"match": "Match my mood", "lift": "Lift my mood", "calm": "Calm me down"}


def _shown_strategy(page: Page) -> str:
    """The strategy of the result on screen: the page sends none unless the person picks one."""
    analysis = page.request.get(f"/api/analyses/{_analysis_id(page)}").json()
    return analysis["recommendations"]["strategy"]


def test_strategy_switch_reranks_without_a_new_upload(page: Page, check_a11y) -> None:
    open_app(page)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    assert len([url for url in posts if url.endswith("/api/analyses")]) == 1
    analysis_id = _analysis_id(page)
    # Nothing was picked, so the page got the API's default and shows which one and why.
    choice = page.request.get(f"/api/analyses/{analysis_id}").json()["strategy_choice"]
    first = choice["strategy"]
    assert choice["chosen_by"] == "us" and first == _shown_strategy(page)
    expect(page.get_by_role("radio", name=LABELS[first])).to_be_checked()
    expect(page.locator("#strategy-why")).to_contain_text(LABELS[first])
    expect(page.locator("#strategy-why")).to_contain_text(choice["why"])
    match_names = _card_names(page)

    for strategy in [s for s in LABELS if s != first]:
        label = LABELS[strategy]
        with page.expect_response(lambda r: "/recommendations?strategy=" + strategy in r.url) as info:
            page.get_by_role("radio", name=label).check()
        assert info.value.ok
        expected = [p["name"] for p in info.value.json()["playlists"]]
        expect(page.locator("#music-status")).to_contain_text("re-ranked")
        expect(page.locator("#playlists li.card .card-name")).to_have_text(expected)
        assert info.value.url.split("/api/analyses/")[1].startswith(analysis_id)

    # The catalogue differs per strategy, so at least one switch changed what is shown.
    assert _card_names(page) != match_names
    assert len([url for url in posts if url.endswith("/api/analyses")]) == 1, "switching must not re-upload"
    check_a11y(page, "re-ranked result")


def _votes(stack: Stack, spotify_id: str) -> list[tuple[int, str, str]]:
    engine = sa.create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(
                sa.select(Feedback.vote, Feedback.emotion, Feedback.strategy)
                .join(Playlist, Playlist.id == Feedback.playlist_id)
                .where(Playlist.spotify_id == spotify_id)
                .order_by(Feedback.id)
            )]
    finally:
        engine.dispose()


def test_thumbs_up_is_stored(page: Page, stack: Stack) -> None:
    open_app(page)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    emotion = page.locator("#verdict strong").inner_text()
    strategy = _shown_strategy(page)
    assert page.locator('input[name="strategy"]:checked').get_attribute("value") == strategy  # the API's default
    card = page.locator("#playlists li.card").first
    name = card.locator(".card-name").inner_text()
    spotify_id = card.get_attribute("data-playlist-id")
    before = _votes(stack, spotify_id)
    up = card.get_by_role("button", name=f"I like {name}")
    expect(up).to_have_attribute("aria-pressed", "false")
    with page.expect_response(lambda r: r.url.endswith("/feedback")) as info:
        up.click()
    assert info.value.status == 201
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(card.get_by_role("status")).to_contain_text("Thanks")
    expect(card.get_by_role("button", name=f"Not for me: {name}")).to_have_attribute("aria-pressed", "false")
    assert _votes(stack, spotify_id)[len(before):] == [(1, emotion, strategy)]


def test_thumbs_down_after_a_re_rank_is_stored_for_that_strategy(page: Page, stack: Stack) -> None:
    open_app(page)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    emotion = page.locator("#verdict strong").inner_text()
    used = page.locator('input[name="strategy"]:checked').get_attribute("value")
    target, label = ("calm", "Calm me down") if used != "calm" else ("lift", "Lift my mood")
    with page.expect_response(lambda r: f"strategy={target}" in r.url):
        page.get_by_role("radio", name=label).check()
    expect(page.locator("#music-status")).to_contain_text("re-ranked")
    card = page.locator("#playlists li.card").first
    name = card.locator(".card-name").inner_text()
    spotify_id = card.get_attribute("data-playlist-id")
    before = _votes(stack, spotify_id)
    down = card.get_by_role("button", name=f"Not for me: {name}")
    with page.expect_response(lambda r: r.url.endswith("/feedback")) as info:
        down.click()
    assert info.value.status == 201
    expect(down).to_have_attribute("aria-pressed", "true")
    assert _votes(stack, spotify_id)[len(before):] == [(-1, emotion, target)]
