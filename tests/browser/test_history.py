"""This session's history lists results only, and deletes one or all."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser import photos
from tests.browser.flows import open_app, upload, wait_for_result

UNDO_MS = 6000  # history.js UNDO_MS


def _history_ids(page: Page) -> list[str]:
    response = page.request.get("/api/history")
    assert response.ok
    return [entry["id"] for entry in response.json()["analyses"]]


def test_history_delete_one_then_all(page: Page, check_a11y) -> None:
    open_app(page)
    expect(page.get_by_text("No analyses yet.")).to_be_visible()
    for photo in (photos.face_photo(), photos.landscape_photo()):
        upload(page, photos.jpeg_bytes(photo))
        wait_for_result(page)
        page.get_by_role("button", name="Analyse another photo").click()
    items = page.locator("#history-list li")
    expect(items).to_have_count(2)
    assert len(_history_ids(page)) == 2
    # Results only: no image of any kind in the history.
    expect(page.locator("#history img")).to_have_count(0)
    check_a11y(page, "history with entries")

    first_id = items.first.get_attribute("data-analysis-id")
    items.first.get_by_role("button", name="Delete").click()
    expect(items).to_have_count(1)
    # The delete waits for the undo window, then reaches the server.
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    expect(page.get_by_role("button", name="Undo")).to_be_hidden(timeout=UNDO_MS + 5_000)
    expect(page.locator("#history-status")).to_have_text("Result deleted for good.")
    assert first_id not in _history_ids(page)
    assert page.request.get(f"/api/analyses/{first_id}").status == 404

    # Delete all asks first; "Keep my history" keeps it.
    page.get_by_role("button", name="Delete all history").click()
    dialog = page.get_by_role("dialog", name="Delete all history?")
    expect(dialog).to_be_visible()
    check_a11y(page, "delete-all confirmation")
    dialog.get_by_role("button", name="Keep my history").click()
    expect(dialog).to_be_hidden()
    expect(items).to_have_count(1)
    assert len(_history_ids(page)) == 1

    page.get_by_role("button", name="Delete all history").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete everything").click()
    expect(items).to_have_count(0)
    expect(page.get_by_text("No analyses yet.")).to_be_visible()
    assert _history_ids(page) == []


def test_undo_restores_a_deleted_entry(page: Page, check_a11y) -> None:
    open_app(page)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    items = page.locator("#history-list li")
    expect(items).to_have_count(1)
    entry_id = items.first.get_attribute("data-analysis-id")
    # The list refreshes a moment after the result shows: read its summary once it names the result.
    expect(items.first.locator(".history-summary")).not_to_have_text("Still working…")
    summary = items.first.locator(".history-summary").inner_text()
    deletes: list[str] = []
    page.on("request", lambda r: deletes.append(r.url) if r.method == "DELETE" else None)
    items.first.get_by_role("button", name="Delete").click()
    expect(items).to_have_count(0)
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    expect(page.locator("#undo-text")).to_contain_text(summary)
    check_a11y(page, "undo offered")
    undo.click()
    expect(items).to_have_count(1)
    expect(items.first).to_have_attribute("data-analysis-id", entry_id)
    expect(page.locator("#history-status")).to_have_text("Result restored.")
    # Past the window nothing was sent: the entry is still on the server.
    page.wait_for_timeout(UNDO_MS + 500)
    assert deletes == []
    assert entry_id in _history_ids(page)
    assert page.request.get(f"/api/analyses/{entry_id}").status == 200


def test_history_view_shows_the_result_without_the_photo(page: Page) -> None:
    open_app(page)
    upload(page, photos.jpeg_bytes(photos.face_photo()))
    wait_for_result(page)
    verdict = page.locator("#verdict").inner_text()
    page.reload()  # a new page load: the photo in memory is gone, the session's history is not
    # The agreement is remembered in the session: no notice the second time.
    expect(page.get_by_role("heading", name="Before you take a selfie")).to_be_hidden()
    item = page.locator("#history-list li").first
    expect(item).to_be_visible()
    item.get_by_role("button", name="View").click()
    wait_for_result(page)
    expect(page.get_by_text("The photo is not kept")).to_be_visible()
    expect(page.locator("#result-photo")).to_be_hidden()
    # Same layout as a fresh result: the frame keeps the photo's shape and marks the face.
    expect(page.locator("#face-boxes .face-box")).to_have_count(1)
    frame = page.locator("#photo-stage").bounding_box()
    assert frame["width"] > 100 and frame["height"] > 60, frame
    expect(page.locator("#verdict")).to_have_text(verdict)
    # No upload was timed by this page: the server's time from upload to done, said to be that.
    expect(page.locator("#model-info")).to_have_text(re.compile(r"upload to result \d+ ms \(server\)$"))
    expect(page.locator("#bars li")).to_have_count(7)
    expect(page.locator("#playlists li.card").first).to_be_visible()
