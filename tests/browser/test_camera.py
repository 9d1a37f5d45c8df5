"""The camera path with Chromium's fake camera, and a denied camera."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser import photos
from tests.browser.flows import assert_face_result, open_app, upload, wait_for_result


def _wait_for_live_video(page: Page) -> None:
    expect(page.get_by_label("Live camera preview")).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.getElementById('camera-preview');"
        " return v.srcObject && v.videoWidth > 0 && v.readyState >= 2; }"
    )


def test_camera_path_takes_photo_stops_stream_and_shows_result(camera_page: Page, check_a11y) -> None:
    page = camera_page
    open_app(page)
    page.get_by_role("button", name="Take a selfie").click()
    _wait_for_live_video(page)
    check_a11y(page, "live camera preview")

    # Retake: the first still is discarded and the camera comes back.
    page.evaluate("window.__tracks = document.getElementById('camera-preview').srcObject.getTracks()")
    page.get_by_role("button", name="Take photo").click()
    expect(page.get_by_role("img", name="The photo you just took")).to_be_visible()
    assert page.evaluate("window.__tracks.every(t => t.readyState === 'ended')"), "stream still running after capture"
    assert page.evaluate("document.getElementById('camera-preview').srcObject === null")
    page.get_by_role("button", name="Retake").click()
    _wait_for_live_video(page)

    page.evaluate("window.__tracks = document.getElementById('camera-preview').srcObject.getTracks()")
    page.get_by_role("button", name="Take photo").click()
    assert page.evaluate("window.__tracks.every(t => t.readyState === 'ended')")
    still = page.get_by_role("img", name="The photo you just took")
    expect(still).to_be_visible()
    assert still.evaluate("img => img.src.startsWith('blob:')")
    page.get_by_role("button", name="Analyse this photo").click()
    wait_for_result(page)
    assert_face_result(page)
    # The fake camera's clip is 640x480; the page sent that frame, so the API measured the same size.
    dims = page.evaluate("() => { const i = document.getElementById('result-photo'); return [i.naturalWidth, i.naturalHeight]; }")
    assert dims == list(photos.PHOTO_SIZE)


def test_denied_camera_says_so_and_upload_still_works(page: Page, check_a11y) -> None:
    # This browser context has no camera permission, so getUserMedia is refused for real.
    open_app(page)
    page.get_by_role("button", name="Take a selfie").click()
    message = page.locator("#camera-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Camera access was denied")
    expect(message).to_contain_text("upload a photo instead")
    expect(page.get_by_label("Choose a photo")).to_be_focused()
    check_a11y(page, "camera denied")
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    assert_face_result(page)
