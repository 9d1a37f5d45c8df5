"""The upload path gives the result with the face box, the bars and playlists."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser import photos
from tests.browser.flows import FOLLOW_URL, assert_face_result, open_app, upload, wait_for_result
from tests.browser.stack import REPO_ROOT, Stack

SCREENSHOT = REPO_ROOT / "docs" / "screenshots" / "result.png"

# Records every text the live status region shows, so the test sees what a screen reader hears.
WATCH_STATUS = """() => {
  window.__statusSeen = [];
  const region = document.getElementById('status');
  new MutationObserver(() => window.__statusSeen.push(region.textContent))
    .observe(region, {childList: true, characterData: true, subtree: true});
}"""


def test_upload_real_face_shows_box_bars_and_playlists(page: Page, stack: Stack, check_a11y) -> None:
    open_app(page, agree=False)
    expect(page.get_by_role("heading", name="Before you take a selfie")).to_be_visible()
    expect(page.get_by_label("Choose a photo")).to_be_hidden()  # capture starts only after consent
    check_a11y(page, "consent notice")
    page.get_by_role("button", name="I agree, let's start").click()
    check_a11y(page, "capture")

    page.evaluate(WATCH_STATUS)
    follows: list[str] = []
    page.on("request", lambda r: follows.append(r.url) if r.method == "GET" and FOLLOW_URL.match(r.url) else None)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    assert_face_result(page)
    # Two times, each named: the models' own, and the wait from upload to result measured by the page.
    expect(page.locator("#model-info")).to_have_text(
        re.compile(r"face and emotion models \d+ ms · upload to result \d+ ms$"))

    # The page followed the analysis over its event stream, without one status poll, and the status
    # region showed the stage the stream reported first (queued, or analysing once the worker took it).
    assert any(url.endswith("/events") for url in follows), follows
    assert [url for url in follows if not url.endswith("/events")] == [], f"the page polled: {follows}"
    seen = page.evaluate("window.__statusSeen")
    assert any("Queued" in text or "Analysing" in text for text in seen), seen

    # The face box sits on the pasted face (scaled from the API's image size to the shown photo).
    img = page.locator("#result-photo").bounding_box()
    box = page.locator("#face-boxes .face-box").first.bounding_box()
    fx, fy, fw, fh = photos.face_box_in_photo()
    scale = img["width"] / photos.PHOTO_SIZE[0]
    centre_x = (box["x"] - img["x"] + box["width"] / 2) / scale
    centre_y = (box["y"] - img["y"] + box["height"] / 2) / scale
    assert fx < centre_x < fx + fw and fy < centre_y < fy + fh, (box, img)
    check_a11y(page, "result with a face")

    # The selfie travelled as base64 to the worker; no log of either process holds it.
    for name in ("web", "worker"):
        log = (stack.log_dir / f"{name}.log").read_text(errors="replace")
        assert not re.search(r"[A-Za-z0-9+/]{200,}", log), f"something like image data in the {name} log"


def test_result_page_screenshot_for_readme(page: Page) -> None:
    """Saves docs/screenshots/result.png, the result page the README shows."""
    open_app(page)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    expect(page.locator("#playlists li.card").first).to_be_visible()
    page.wait_for_timeout(600)  # let the bar widths finish their transition
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    # Taken before any player is opened: Spotify cannot be reached from the test machine.
    page.locator("#result").screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
    assert_face_result(page)  # and it shows what the README says it shows
