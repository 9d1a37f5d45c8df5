"""Music a person keeps, in the browser: taking a vote back, one face driving the music, saying how
they feel, and the mood journal. Every test runs at desktop and phone sizes, light and dark, with
axe-core checked in each state it reaches, against the real stack.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from recommender.models import Feedback, Playlist
from tests.browser import photos
from tests.browser.flows import open_app, upload, wait_for_result
from tests.browser.stack import REPO_ROOT, Stack
from tests.browser.test_music_app import MODES, Mode, _assert_scheme, mode, ui  # noqa: F401  (fixtures)

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


def db_rows(stack: Stack, query: sa.Select) -> list[tuple]:
    """Rows of ``query`` read straight from the stack's database."""
    engine = sa.create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query)]
    finally:
        engine.dispose()


def votes_on(stack: Stack, spotify_id: str) -> list[tuple]:
    return db_rows(stack, sa.select(Feedback.vote, Feedback.emotion, Feedback.strategy)
                   .join(Playlist, Playlist.id == Feedback.playlist_id)
                   .where(Playlist.spotify_id == spotify_id).order_by(Feedback.id))


def test_tapping_the_active_thumb_withdraws_the_vote(ui: Page, mode: Mode, stack: Stack, check_a11y) -> None:
    page = ui
    open_app(page)
    _assert_scheme(page, mode)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    card = page.locator("#playlists li.card").first
    name = card.locator(".card-name").inner_text()
    spotify_id = card.get_attribute("data-playlist-id")
    before = votes_on(stack, spotify_id)
    up = card.get_by_role("button", name=f"I like {name}")
    with page.expect_response(lambda r: r.url.endswith("/feedback") and r.request.method == "POST"):
        up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(card.locator(".card-liked")).to_contain_text("including you")
    assert len(votes_on(stack, spotify_id)) == len(before) + 1
    check_a11y(page, f"voted ({mode.name})")
    with page.expect_response(lambda r: r.url.endswith("/feedback") and r.request.method == "DELETE") as info:
        up.click()
    assert info.value.ok and info.value.json()["withdrawn"] is True
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(card.get_by_role("button", name=f"Not for me: {name}")).to_have_attribute("aria-pressed", "false")
    expect(card.get_by_role("status")).to_have_text("Vote withdrawn.")
    expect(card.locator(".card-liked")).to_be_hidden()
    assert votes_on(stack, spotify_id) == before
    check_a11y(page, f"vote withdrawn ({mode.name})")


def _shown_analysis(page: Page) -> dict:
    analysis_id = page.locator("#history-list li").first.get_attribute("data-analysis-id")
    return page.request.get(f"/api/analyses/{analysis_id}").json()


def test_tapping_a_face_gives_music_for_it_and_one_tap_goes_back(ui: Page, mode: Mode, stack: Stack,
                                                                 check_a11y) -> None:
    page = ui
    open_app(page)
    upload(page, photos.jpeg_bytes(photos.two_faces_photo()), name="two.jpg")
    wait_for_result(page)
    boxes = page.locator("#face-boxes .face-box")
    expect(boxes).to_have_count(2)
    analysis = _shown_analysis(page)
    other = 1 - next(i for i, face in enumerate(analysis["faces"]) if face["primary"])
    emotion = analysis["faces"][other]["emotion"]
    expect(page.locator("#music-for")).to_be_hidden()
    with page.expect_response(lambda r: "/recommendations?" in r.url and f"face={other}" in r.url) as info:
        boxes.nth(other).click()
    answer = info.value.json()
    assert info.value.ok and answer["emotion"] == emotion and answer["face"] == other
    expect(page.locator("#playlists li.card .card-name")).to_have_text([p["name"] for p in answer["playlists"]])
    expect(page.locator("#music-for")).to_be_visible()
    expect(page.locator("#music-for-text")).to_have_text(f"Music for face {other + 1} ({emotion.lower()}).")
    check_a11y(page, f"music for one face ({mode.name})")
    # A vote on this music counts for that face's emotion and the strategy shown.
    card = page.locator("#playlists li.card").first
    name = card.locator(".card-name").inner_text()
    spotify_id = card.get_attribute("data-playlist-id")
    before = votes_on(stack, spotify_id)
    with page.expect_response(lambda r: r.url.endswith("/feedback")) as voted:
        card.get_by_role("button", name=f"I like {name}").click()
    assert voted.value.status == 201
    assert votes_on(stack, spotify_id)[len(before):] == [(1, emotion, answer["strategy"])]
    # One tap back: the group's music again, without a face.
    with page.expect_response(lambda r: "/recommendations?" in r.url and "face=" not in r.url) as back:
        page.get_by_role("button", name="Back to the group").click()
    assert back.value.ok and back.value.json()["face"] is None
    expect(page.locator("#music-for")).to_be_hidden()
    expect(page.locator("#music-status")).to_have_text("Music for the group.")
    expect(page.locator("#playlists li.card .card-name")).to_have_text(
        [p["name"] for p in back.value.json()["playlists"]])
    check_a11y(page, f"back to the group ({mode.name})")


def _other(read: str) -> str:
    from recognizer.emotions import EMOTIONS

    return EMOTIONS[(EMOTIONS.index(read) + 3) % len(EMOTIONS)]


def test_saying_how_you_feel_rechooses_the_music(ui: Page, mode: Mode, stack: Stack, check_a11y) -> None:
    page = ui
    open_app(page)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    read = _shown_analysis(page)["primary_emotion"]
    said = _other(read)
    expect(page.locator("#said")).to_be_hidden()
    page.get_by_text("Not how you feel?").click()
    keep = page.get_by_role("button", name=f"Keep yours ({read.lower()})")
    expect(keep).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#correct-options button")).to_have_count(7)  # six others and "Keep yours"
    check_a11y(page, f"correction choices ({mode.name})")
    with page.expect_response(lambda r: r.url.endswith("/correction")) as info:
        page.get_by_role("button", name=said, exact=True).click()
    answer = info.value.json()
    assert info.value.ok and answer["said_emotion"] == said and answer["primary_emotion"] == read
    expect(page.locator("#said")).to_have_text(f"You said {said.lower()}; we read {read.lower()}.")
    expect(page.locator("#correct-status")).to_have_text(f"Music chosen for how you feel: {said.lower()}.")
    expect(page.get_by_role("button", name=said, exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#playlists li.card .card-name")).to_have_text(
        [p["name"] for p in answer["recommendations"]["playlists"]])
    expect(page.locator("#history-list li").first.locator(".history-summary")).to_have_text(
        f"You said {said} (we read {read})")
    check_a11y(page, f"corrected ({mode.name})")
    if mode.name == "desktop-light":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#result").screenshot(path=str(SCREENSHOTS / "correction.png"))
    # A vote now counts for the said emotion.
    card = page.locator("#playlists li.card").first
    name = card.locator(".card-name").inner_text()
    spotify_id = card.get_attribute("data-playlist-id")
    before = votes_on(stack, spotify_id)
    with page.expect_response(lambda r: r.url.endswith("/feedback")):
        card.get_by_role("button", name=f"I like {name}").click()
    assert votes_on(stack, spotify_id)[len(before):] == [(1, said, answer["strategy"])]
    # "Keep yours" goes back to the reading.
    with page.expect_response(lambda r: r.url.endswith("/correction")) as kept:
        page.get_by_role("button", name=f"Keep yours ({read.lower()})").click()
    assert kept.value.json()["said_emotion"] is None
    expect(page.locator("#said")).to_be_hidden()
    expect(page.locator("#history-list li").first.locator(".history-summary")).not_to_contain_text("You said")


def _backdate(stack: Stack, analysis_id: str, days: int) -> None:
    from emotune.models import Analysis

    engine = sa.create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.update(Analysis).where(Analysis.id == uuid.UUID(analysis_id))
                         .values(created_at=Analysis.created_at - dt.timedelta(days=days)))
    finally:
        engine.dispose()


def _chart(page: Page) -> dict[tuple[str, str], int]:
    return {(r["day"], r["emotion"]): int(r["count"]) for r in page.eval_on_selector_all(
        "#week-chart svg rect", "rects => rects.map(r => ({day: r.dataset.day, emotion: r.dataset.emotion, count: r.dataset.count}))")}


def _table(page: Page) -> dict[tuple[str, str], int]:
    cells = page.eval_on_selector_all(
        "#week-table tbody td[data-emotion]",
        "tds => tds.map(td => ({day: td.parentElement.dataset.day, emotion: td.dataset.emotion, n: td.textContent}))")
    return {(c["day"], c["emotion"]): int(c["n"]) for c in cells if int(c["n"])}


def test_the_journal_shows_a_week_by_day_and_deleting_removes_it_everywhere(
        ui: Page, mode: Mode, stack: Stack, check_a11y) -> None:
    page = ui
    open_app(page)
    ids = []
    for _ in range(3):
        upload(page, photos.jpeg_bytes(photos.face_photo()))
        wait_for_result(page)
        ids.append(page.locator("#history-list li").first.get_attribute("data-analysis-id"))
        page.get_by_role("button", name="Analyse another photo").click()
    # The newest reading is corrected: the journal counts it as the said emotion.
    read = page.request.get(f"/api/analyses/{ids[2]}").json()["primary_emotion"]
    said = _other(read)
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert page.request.put(f"/api/analyses/{ids[2]}/correction", data={"emotion": said},
                            headers={"X-CSRFToken": csrf}).ok
    _backdate(stack, ids[0], 5)
    _backdate(stack, ids[1], 2)
    page.reload()
    expect(page.locator("#history-list li")).to_have_count(3)
    zone = ZoneInfo(page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone"))
    entries = {e["id"]: e for e in page.request.get("/api/history").json()["analyses"]}
    expected: dict[tuple[str, str], int] = {}
    for analysis_id, entry in entries.items():
        day = dt.datetime.fromisoformat(entry["created_at"]).astimezone(zone).date().isoformat()
        mood = entry["said_emotion"] or entry["primary_emotion"]
        expected[(day, mood)] = expected.get((day, mood), 0) + 1
    assert entries[ids[2]]["said_emotion"] == said
    # Three days, newest first, each under its date; the chart and its table say the same.
    expect(page.locator("#history-list .journal-day")).to_have_count(3)
    expect(page.locator("#history-list .journal-date").first).to_have_text("Today")
    expect(page.locator("#history-list .journal-day").first.locator(".history-summary")).to_have_text(
        f"You said {said} (we read {read})")
    expect(page.locator("#journal-week")).to_be_visible()
    assert _chart(page) == _table(page) == expected
    expect(page.locator("#week-table tbody tr")).to_have_count(7)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scroll"
    page.get_by_text("How long is this kept, and how do I delete it?").click()
    expect(page.locator("#journal-kept")).to_contain_text("31 days after your last visit")
    check_a11y(page, f"mood journal ({mode.name})")
    if mode.name == "desktop-light":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#history").screenshot(path=str(SCREENSHOTS / "journal.png"))
    # Deleting an entry takes it out of the days, the chart and the table at once (undo stays
    # possible), and for good once the undo window has passed.
    gone = entries[ids[1]]
    day = dt.datetime.fromisoformat(gone["created_at"]).astimezone(zone).date().isoformat()
    page.locator(f'#history-list li[data-analysis-id="{ids[1]}"]').get_by_role("button", name="Delete").click()
    expected.pop((day, gone["primary_emotion"]))
    expect(page.locator("#history-list .journal-day")).to_have_count(2)
    assert _chart(page) == _table(page) == expected
    check_a11y(page, f"journal entry deleted, undo offered ({mode.name})")
    expect(page.locator("#history-status")).to_have_text("Result deleted for good.", timeout=15_000)
    assert page.request.get(f"/api/analyses/{ids[1]}").status == 404
    assert _chart(page) == _table(page) == expected
