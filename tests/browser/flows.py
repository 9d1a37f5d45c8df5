"""Steps shared by the browser tests: open the page, agree, upload, wait for the result."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from recognizer.emotions import EMOTIONS

RESULT_TIMEOUT_MS = 60_000


def open_app(page: Page, agree: bool = True) -> None:
    """Open EmoTune; with ``agree`` accept the notice so capture is available."""
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    if agree:
        page.get_by_role("button", name="I agree, let's start").click()
        expect(page.get_by_role("heading", name="Take or upload a selfie")).to_be_visible()


def upload(page: Page, data: bytes, name: str = "selfie.jpg", mime: str = "image/jpeg") -> None:
    """Choose ``data`` in the file input, as a person picking a photo would."""
    page.get_by_label("Choose a photo").set_input_files(files=[{"name": name, "mimeType": mime, "buffer": data}])


def wait_for_result(page: Page) -> None:
    """Wait until the result section shows."""
    expect(page.get_by_role("heading", name="Your result")).to_be_visible(timeout=RESULT_TIMEOUT_MS)


def bar_texts(page: Page) -> list[str]:
    """The bar chart rows as the person reads them, e.g. 'Happy 42%'."""
    return [" ".join(text.split()) for text in page.locator("#bars li").all_inner_texts()]


def assert_face_result(page: Page) -> None:
    """The result shows one face box on the in-memory photo, 7 labelled bars and playlist cards."""
    photo = page.get_by_role("img", name="Your photo, with a box around each face found")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.src.startsWith('blob:')"), "the photo must come from browser memory"
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0"), "the photo did not render"
    boxes = page.locator("#face-boxes .face-box")
    expect(boxes).to_have_count(1)
    expect(boxes.first).to_be_visible()
    rows = bar_texts(page)
    assert [row.split()[0].rstrip("★") for row in rows] == list(EMOTIONS), rows
    for row in rows:
        assert row.endswith("%"), f"bar without a percentage: {row!r}"
    expect(page.locator("#verdict")).to_contain_text("The model is")
    cards = page.locator("#playlists li.card")
    expect(cards.first).to_be_visible()
    assert cards.count() >= 1
    first = cards.first
    expect(first.locator(".card-name")).not_to_be_empty()
    expect(first.locator(".card-reason")).not_to_be_empty()
    # Spotify's player loads only on request (it cannot reach Spotify here; the card must cope).
    expect(first.locator("iframe")).to_have_count(0)
    spotify_id = first.get_attribute("data-playlist-id")
    first.get_by_role("button", name="Play here").click()
    frame = first.locator("iframe")
    expect(frame).to_have_attribute("src", f"https://open.spotify.com/embed/playlist/{spotify_id}")
    expect(frame).to_have_attribute("title", re.compile("Spotify player: .+"))
    expect(first.locator(".card-name")).to_be_visible()
    assert first.get_by_role("link", name="in Spotify").get_attribute("href").startswith(
        "https://open.spotify.com/playlist/"
    )


# The page's ways of learning an analysis's state: its event stream, or a status poll.
FOLLOW_URL = re.compile(r".*/api/analyses/[^/?]+(/events)?$")


def force_polling(page: Page) -> None:
    """Refuse the page's event streams, so it follows analyses by polling (its fallback)."""
    page.route("**/api/analyses/*/events", lambda route: route.abort("connectionrefused"))


def upload_holding_first_poll(page: Page, data: bytes) -> list[Route]:
    """Upload ``data`` and hold the page's first look at the analysis (its event stream, or a status
    poll), so the working state stays on screen.

    Returns the held route (continue it to let the result through); fails if the page never looks.
    """
    held: list[Route] = []
    page.route(FOLLOW_URL, lambda route: held.append(route) if not held else route.continue_())
    upload(page, data)
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page did not follow the analysis (no event stream, no status poll)"
    return held
