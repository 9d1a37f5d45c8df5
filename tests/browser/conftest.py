"""Browser-test fixtures: the live stack, headless Chromium, axe-core and failure screenshots.

Chromium is Debian's (/usr/bin/chromium) driven by Playwright. Every test gets a fresh browser
context (so a fresh EmoTune session), a screenshot when it fails, and a check that the page broke
no Content-Security-Policy rule.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from recognizer.models import find_default_model
from tests.browser import photos
from tests.browser.stack import REPO_ROOT, Stack
from tests.prerequisites import CHROMIUM, missing

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO_ROOT / "tests" / "artifacts" / "browser"
VIEWPORT = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # Keep each phase's report on the item so the page fixture knows whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        missing(f"Chromium at {CHROMIUM}; install Debian's chromium package (.ci/run does)")
    return CHROMIUM


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        missing(f"axe-core at {AXE_JS}: run `npm ci` in the repository root")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser_model(request: pytest.FixtureRequest) -> Path:
    """The model the worker serves: EMOTUNE_TEST_MODEL_PATH if set, else the newest trained
    ``ml/models/mobilenetv2_*.tflite`` (so the README screenshot shows real predictions), else the
    shared untrained model of the plan's architecture. No test depends on which emotion comes out.
    """
    existing = os.environ.get("EMOTUNE_TEST_MODEL_PATH")
    if existing:
        return Path(existing)
    trained = find_default_model(REPO_ROOT / "ml" / "models")
    if trained is not None and trained.suffix == ".tflite" and trained.with_suffix(".json").exists():
        return trained
    return request.getfixturevalue("plan_model_tflite")


@pytest.fixture(scope="session")
def stack(browser_model: Path, chromium_path: Path) -> Iterator[Stack]:
    """EmoTune on loopback: real web server, real Celery worker, Redis, PostgreSQL, seeded catalogue."""
    live = Stack(model_path=browser_model, log_dir=ARTIFACTS / "logs")
    try:
        live.start()
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_path: Path) -> Iterator[Browser]:
    """Chromium with a fake camera device but no automatic permission: a camera is denied unless granted."""
    instance = playwright.chromium.launch(
        executable_path=str(chromium_path),
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream"],
    )
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def face_y4m(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Y4M clip of a real face photo, for Chromium's fake camera."""
    return photos.write_y4m(photos.face_photo(), tmp_path_factory.mktemp("camera") / "face.y4m")


@pytest.fixture()
def camera_browser(playwright: Playwright, chromium_path: Path, face_y4m: Path) -> Iterator[Browser]:
    """Chromium whose camera shows the face clip and whose permission prompt is accepted."""
    instance = playwright.chromium.launch(
        executable_path=str(chromium_path),
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={face_y4m}",
        ],
    )
    yield instance
    instance.close()


def _context_and_page(browser: Browser, stack: Stack, **options) -> tuple[BrowserContext, Page, list[str]]:
    """A new context (``options`` go to ``new_context``: viewport, colour scheme, touch) and its page."""
    options.setdefault("viewport", VIEWPORT)
    context = browser.new_context(base_url=stack.base_url, **options)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            problems.append(f"CSP violation: {message.text}")

    page.on("console", on_console)
    page.set_default_timeout(20_000)
    return context, page, problems


def _finish(request: pytest.FixtureRequest, context: BrowserContext, page: Page, problems: list[str]) -> None:
    report = getattr(request.node, "rep_call", None)
    try:
        if report is not None and report.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()
    if report is not None and report.passed:
        assert not problems, "\n".join(problems)


@pytest.fixture()
def page(browser: Browser, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh EmoTune session in a new context; a screenshot is saved if the test fails."""
    context, new_page, problems = _context_and_page(browser, stack)
    yield new_page
    _finish(request, context, new_page, problems)


@pytest.fixture()
def camera_page(camera_browser: Browser, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Like ``page``, in the Chromium whose fake camera shows a real face."""
    context, new_page, problems = _context_and_page(camera_browser, stack)
    yield new_page
    _finish(request, context, new_page, problems)


@pytest.fixture()
def check_a11y(axe_source: str):
    """Run axe-core in the page and fail on any serious or critical violation."""

    def check(page: Page, state: str) -> None:
        # Evaluated through DevTools, so the page's CSP (script-src 'self') does not block it.
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)
        results = page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})"
        )
        bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
        details = [
            {"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in bad
        ]
        assert not bad, f"axe found serious/critical violations in state '{state}':\n{json.dumps(details, indent=1)}"

    return check
