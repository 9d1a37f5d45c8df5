"""Print how fast the page paints and how many bytes it loads, in headless Chromium.

    python -m tests.browser.first_paint [--model PATH] [--runs N]

Starts the same loopback stack as the browser tests (web server, Celery worker, Redis,
a throw-away PostgreSQL database), loads the page N times in fresh contexts (cold cache) and
prints first-contentful-paint, largest-contentful-paint, the moment the script is ready, and the bytes transferred.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from recognizer.models import find_default_model
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.browser.stack import REPO_ROOT, Stack

MEASURE = """async () => ({
  fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
  lcp: await new Promise(resolve => new PerformanceObserver(list => {
    const entries = list.getEntries();
    resolve(entries[entries.length - 1].startTime);
  }).observe({type: 'largest-contentful-paint', buffered: true})),
  ready: performance.now(),
  bytes: performance.getEntriesByType('navigation')[0].transferSize
       + performance.getEntriesByType('resource').reduce((sum, r) => sum + r.transferSize, 0),
})"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=find_default_model(REPO_ROOT / "ml" / "models"))
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if args.model is None:
        parser.error("no model in ml/models; pass --model PATH (a .tflite with its .json beside it)")
    with tempfile.TemporaryDirectory() as logs:
        stack = Stack(model_path=args.model, log_dir=Path(logs))
        try:
            stack.start()
            samples = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                for _ in range(args.runs):
                    context = browser.new_context(viewport=VIEWPORT)
                    page = context.new_page()
                    page.goto(stack.base_url + "/")
                    page.wait_for_function("document.documentElement.dataset.ready === 'true'")
                    samples.append(page.evaluate(MEASURE))
                    context.close()
                browser.close()
        finally:
            stack.stop()
    for key, unit in (("fcp", "ms"), ("lcp", "ms"), ("ready", "ms"), ("bytes", "bytes")):
        values = [s[key] for s in samples]
        print(f"{key:>6}: median {statistics.median(values):8.0f} {unit}  (min {min(values):.0f}, max {max(values):.0f}, {len(values)} cold loads)")


if __name__ == "__main__":
    main()
