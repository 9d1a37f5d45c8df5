"""The quality bars: axe-core on the remaining page states, keyboard use,
visible focus, and a layout that works from phone to desktop width."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser import photos
from tests.browser.flows import open_app, upload, upload_holding_first_poll, wait_for_result


def test_progress_state_is_announced_and_accessible(page: Page, check_a11y) -> None:
    open_app(page)
    # Hold the first status poll so the in-progress state stays on screen while axe looks at it.
    held = upload_holding_first_poll(page, photos.jpeg_bytes(photos.face_photo()))
    expect(page.get_by_role("heading", name="Working on it")).to_be_visible()
    expect(page.locator("#progress").get_by_role("status")).to_have_text("Sending your photo…")
    check_a11y(page, "analysis in progress")
    held[0].continue_()
    wait_for_result(page)


def test_keyboard_only_consent_upload_and_strategy(page: Page) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("data-ready", "true")
    # Tab from the top reaches the consent button; Enter agrees.
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "consent-agree":
            break
    assert page.evaluate("document.activeElement.id") == "consent-agree"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows no focus ring"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Take or upload a selfie")).to_be_visible()

    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    # Focus lands on the result; the strategy radios and the votes are reachable by keyboard.
    assert page.evaluate("document.activeElement.id") == "result"
    # The radio of the shown strategy is checked; the arrow key moves to the next one and re-ranks.
    values = ["match", "lift", "calm"]
    checked = page.evaluate("document.querySelector('input[name=strategy]:checked').value")
    page.locator(f"input[name=strategy][value={checked}]").focus()
    following = values[(values.index(checked) + 1) % 3]
    with page.expect_response(lambda r: f"strategy={following}" in r.url):
        page.keyboard.press("ArrowRight")
    expect(page.locator(f"input[name=strategy][value={following}]")).to_be_checked()
    focus_ring = page.evaluate(
        "() => { const b = document.querySelector('#playlists .vote'); b.focus();"
        " return getComputedStyle(b).outlineStyle; }"
    )
    assert focus_ring != "none"


def test_every_control_has_a_label(page: Page) -> None:
    open_app(page)
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, textarea, a[href]')]
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                           && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
             .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert unlabeled == []


def test_one_column_on_a_phone_and_two_on_a_desktop(page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    open_app(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "sideways scrolling on a phone"
    capture = page.locator("#capture").bounding_box()
    history = page.locator("#history").bounding_box()
    assert history["y"] >= capture["y"] + capture["height"], "history should sit under capture on a phone"

    page.set_viewport_size({"width": 1280, "height": 900})
    capture = page.locator("#capture").bounding_box()
    history = page.locator("#history").bounding_box()
    assert history["x"] >= capture["x"] + capture["width"], "history should sit beside capture on a desktop"
    assert capture["width"] > 600, "the main column should use the desktop width"
