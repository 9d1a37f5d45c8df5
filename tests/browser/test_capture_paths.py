"""More ways in: drag and drop, a dropped connection with retry, an insecure page, no camera,
and choosing a face when the photo holds two."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, Route, expect

from tests.browser import photos
from tests.browser.conftest import CHROMIUM_ARGS, VIEWPORT
from tests.browser.flows import assert_face_result, bar_texts, force_polling, open_app, upload, wait_for_result
from tests.browser.stack import Stack

DROP_FILE = """async ([b64, name]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, {type: 'image/jpeg'}));
  return data;
}"""


def test_drag_and_drop_a_photo(page: Page) -> None:
    open_app(page)
    payload = base64.b64encode(photos.jpeg_bytes(photos.face_photo())).decode()
    data = page.evaluate_handle(DROP_FILE, [payload, "dropped.jpg"])
    zone = page.locator("#drop-zone")
    zone.dispatch_event("dragover", {"dataTransfer": data})
    expect(zone).to_have_class(re.compile(r"\bdragging\b"))
    zone.dispatch_event("drop", {"dataTransfer": data})
    wait_for_result(page)
    assert_face_result(page)


def test_lost_connection_shows_alert_and_retry_sends_the_same_photo(page: Page, check_a11y) -> None:
    open_app(page)
    attempts: list[Route] = []

    def fail_first_post(route: Route) -> None:
        attempts.append(route)
        if len(attempts) == 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/api/analyses", lambda route: fail_first_post(route) if route.request.method == "POST" else route.continue_())
    jpeg = photos.jpeg_bytes(photos.face_photo())
    upload(page, jpeg)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("could not be reached")
    retry = page.get_by_role("button", name="Try again")
    expect(retry).to_be_focused()
    check_a11y(page, "connection lost")
    retry.click()
    wait_for_result(page)
    assert_face_result(page)
    assert len(attempts) == 2
    # Both attempts carried the photo, byte for byte, from browser memory.
    assert all(jpeg in attempt.request.post_data_buffer for attempt in attempts)


def test_two_faces_primary_first_and_tapping_the_other_shows_its_bars(page: Page) -> None:
    open_app(page)
    upload(page, photos.jpeg_bytes(photos.two_faces_photo()))
    wait_for_result(page)
    boxes = page.locator("#face-boxes .face-box")
    expect(boxes).to_have_count(2)
    analysis_id = page.locator("#history-list li").first.get_attribute("data-analysis-id")
    faces = page.request.get(f"/api/analyses/{analysis_id}").json()["faces"]
    primary = next(i for i, face in enumerate(faces) if face["primary"])
    other = 1 - primary
    expect(boxes.nth(primary)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#verdict")).to_contain_text(f"Face {primary + 1} (the largest) looks {faces[primary]['emotion']}")

    boxes.nth(other).click()
    expect(boxes.nth(other)).to_have_attribute("aria-pressed", "true")
    expect(boxes.nth(primary)).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#verdict")).to_contain_text(f"Face {other + 1} looks {faces[other]['emotion']}")
    shown = {row.split()[0].rstrip("★"): row.split()[-1] for row in bar_texts(page)}
    for emotion, p in faces[other]["probabilities"].items():
        expected = "<1%" if 0 < p * 100 < 1 else f"{round(p * 100)}%"
        assert shown[emotion] == expected, (emotion, shown[emotion], p)


@pytest.fixture()
def plain_browser(playwright: Playwright, chromium_path: Path, stack: Stack) -> Iterator[Browser]:
    """Chromium with no camera at all, and a non-loopback name for the app (an insecure origin)."""
    instance = playwright.chromium.launch(
        executable_path=str(chromium_path),
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP emotune.test 127.0.0.1"],
    )
    yield instance
    instance.close()


def test_insecure_page_explains_the_camera_and_offers_upload(plain_browser: Browser, stack: Stack) -> None:
    context = plain_browser.new_context(viewport=VIEWPORT, base_url=f"http://emotune.test:{stack.port}")
    try:
        page = context.new_page()
        open_app(page)
        assert page.evaluate("window.isSecureContext") is False
        expect(page.get_by_role("button", name="Take a selfie")).to_be_hidden()
        expect(page.locator("#camera-message")).to_contain_text("secure (https) connection")
        upload(page, photos.jpeg_bytes(photos.face_photo()))
        wait_for_result(page)
        assert_face_result(page)
    finally:
        context.close()


def test_no_camera_says_so(plain_browser: Browser, stack: Stack) -> None:
    context = plain_browser.new_context(viewport=VIEWPORT, base_url=stack.base_url)
    context.grant_permissions(["camera"])
    try:
        page = context.new_page()
        open_app(page)
        page.get_by_role("button", name="Take a selfie").click()
        expect(page.locator("#camera-message")).to_contain_text("No camera was found")
        expect(page.get_by_label("Choose a photo")).to_be_focused()
    finally:
        context.close()


def test_failed_analysis_shows_the_api_message_and_retry_starts_again(page: Page) -> None:
    # The worker rarely fails on a good photo, so the first status poll is answered with the
    # documented "failed" shape; everything else (upload, retry, result) is the real stack.
    open_app(page)
    failed = {
        "status": "failed", "stage": "failed",
        "error": {"code": "worker_lost", "message": "The analysis stopped unexpectedly. Please try again."},
    }
    answered: list[str] = []

    def first_poll_fails(route: Route) -> None:
        if route.request.method == "GET" and not answered:
            answered.append(route.request.url)
            route.fulfill(json={"id": route.request.url.rsplit("/", 1)[1], **failed})
        else:
            route.continue_()

    force_polling(page)  # this test is about the polling fallback
    page.route("**/api/analyses/*", first_poll_fails)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    expect(page.get_by_role("alert")).to_have_text(failed["error"]["message"])
    page.get_by_role("button", name="Try again").click()
    wait_for_result(page)
    assert_face_result(page)
    expect(page.get_by_role("alert")).to_have_text("")


def test_lost_connection_while_waiting_resumes_the_same_analysis(page: Page) -> None:
    open_app(page)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/api/analyses") else None)
    aborted: list[str] = []

    def drop_polls(route: Route) -> None:
        # The first four misses are retried quietly; the fifth is reported.
        if route.request.method == "GET" and len(aborted) < 5:
            aborted.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    force_polling(page)  # this test is about the polling fallback
    page.route("**/api/analyses/*", drop_polls)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    expect(page.get_by_role("alert")).to_contain_text("could not be reached", timeout=30_000)
    assert len(aborted) == 5
    page.get_by_role("button", name="Try again").click()
    wait_for_result(page)
    assert_face_result(page)
    assert len(posts) == 1, "resuming must not upload the photo again"
    assert len(set(aborted)) == 1
