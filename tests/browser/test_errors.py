"""A non-image file and a photo without a face each get the right message."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser import photos
from tests.browser.flows import open_app, upload, wait_for_result


def test_non_image_file_shows_the_api_message_and_a_way_on(page: Page, check_a11y) -> None:
    open_app(page)
    with page.expect_response(lambda r: r.url.endswith("/api/analyses") and r.request.method == "POST") as info:
        upload(page, b"These are my notes, not a photo.\n" * 20, name="notes.jpg", mime="image/jpeg")
    response = info.value
    assert response.status == 400
    api_message = response.json()["error"]["message"]
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(api_message)
    retry = page.get_by_role("button", name="Choose another photo")
    expect(retry).to_be_visible()
    expect(page.get_by_role("heading", name="Your result")).to_be_hidden()
    check_a11y(page, "upload rejected")
    retry.click()
    expect(alert).to_have_text("")
    expect(page.get_by_label("Choose a photo")).to_be_focused()


def test_photo_without_a_face_explains_and_gives_tips(page: Page, check_a11y) -> None:
    open_app(page)
    upload(page, photos.jpeg_bytes(photos.landscape_photo()), name="holiday.jpg")
    wait_for_result(page)
    expect(page.get_by_role("heading", name="We couldn't find a face")).to_be_visible()
    expect(page.locator("#no-face-message")).not_to_be_empty()
    tips = page.locator("#no-face-tips li")
    assert tips.count() >= 2
    expect(page.locator("#face-boxes .face-box")).to_have_count(0)
    expect(page.locator("#bars")).to_be_hidden()
    # The photo is still shown from memory so the person sees what was sent.
    expect(page.get_by_role("img", name="Your photo, with a box around each face found")).to_be_visible()
    check_a11y(page, "no face")


def test_photo_over_the_size_limit_shows_the_api_message(page: Page) -> None:
    open_app(page)
    expect(page.locator("#upload-hint")).to_contain_text("up to 10 MB")
    too_big = photos.jpeg_bytes(photos.face_photo()) + bytes(11 * 1024 * 1024)
    with page.expect_response(lambda r: r.url.endswith("/api/analyses") and r.request.method == "POST") as info:
        upload(page, too_big, name="huge.jpg")
    assert info.value.status == 413
    expect(page.get_by_role("alert")).to_have_text(info.value.json()["error"]["message"])
    expect(page.get_by_role("button", name="Choose another photo")).to_be_visible()
