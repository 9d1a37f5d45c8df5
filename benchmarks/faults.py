"""Fault scenarios and a burst of uploads: ``python -m benchmarks.faults [--n N] [--only NAME ...]``.

Each scenario starts its own Redis and PostgreSQL on free ports (never the shared ones), a
``celery -A worker worker --beat`` with short timings (sweep every 2 s, 10 s hard limit), uploads
``--n`` real photos, injects its fault (see ``tests/integration/faults.py``), clears it, and prints
analyses sent, done, failed with a message, and stranded (still queued or running 2 minutes after
the fault cleared). ``burst`` sends ``--burst`` concurrent uploads to gunicorn (rate limit raised)
on Redis + PostgreSQL and counts errors and lost analyses. Needs FER2013 in ../shared/data and a
model (``--model``, default: the newest in ml/models).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from benchmarks.recognizer import face_photo
from recognizer.models import find_default_model
from tests.integration.faults import RECOVERY_BOUND_S, SCENARIOS, Outcome, stack
from tests.integration.processes import REPO_ROOT as REPO, free_port, service_env, start_gunicorn


def burst(model: Path, photo: bytes, count: int) -> Outcome:
    """``count`` uploads at once to gunicorn on Redis + PostgreSQL; every one must end, none fail."""
    with tempfile.TemporaryDirectory(prefix="emotune-burst-") as tmp, stack(model, photo, Path(tmp)) as s:
        port = free_port()
        web = start_gunicorn(service_env(s.config), Path(tmp), port)
        s.workers.append(web)
        s.start_worker()
        base = f"http://127.0.0.1:{port}"
        errors: list[str] = []

        def upload(_: int) -> str | None:
            session = requests.Session()
            try:
                token = session.get(f"{base}/api/csrf", timeout=60).json()["csrf_token"]
                response = session.post(f"{base}/api/analyses", files={"image": ("me.jpg", photo, "image/jpeg")},
                                        headers={"X-CSRFToken": token}, timeout=120)
            except requests.RequestException as exc:
                errors.append(type(exc).__name__)
                return None
            if response.status_code != 202:
                errors.append(str(response.status_code))
                return None
            return str(response.json()["id"])

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=count) as pool:
            ids = [i for i in pool.map(upload, range(count)) if i]
        accepted_s = time.monotonic() - started
        outcome = s.wait_until_ended(f"{count} uploads at once", ids, time.monotonic())
        outcome.sent = count
        outcome.stranded += count - len(ids)
        outcome.note = (f"(HTTP errors {len(errors)}: {sorted(set(errors)) or '-'}; all {len(ids)} accepted in "
                        f"{accepted_s:.1f} s, all ended {outcome.recovery_s + accepted_s:.1f} s after the first upload)")
        return outcome


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios and print one line per scenario; exit 1 if any analysis stranded."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="analyses per fault scenario")
    parser.add_argument("--burst", type=int, default=200, help="concurrent uploads in the burst scenario")
    parser.add_argument("--only", nargs="*", choices=[*SCENARIOS, "burst"], help="scenarios to run (default all)")
    parser.add_argument("--model", type=Path, help="a .tflite model with its .json (default: newest in ml/models)")
    args = parser.parse_args(argv)
    model = args.model or find_default_model(REPO / "ml" / "models")
    if model is None:
        parser.error("no model found: pass --model")
    photo = face_photo((1280, 960), 320)
    chosen = args.only or [*SCENARIOS, "burst"]
    outcomes: list[Outcome] = []
    print(f"model {model.name}; photo {len(photo)} bytes; bound {RECOVERY_BOUND_S} s after the fault clears", flush=True)
    for name in chosen:
        if name == "burst":
            outcome = burst(model, photo, args.burst)
        else:
            with stack(model, photo) as s:
                outcome = SCENARIOS[name](s, args.n)
        outcomes.append(outcome)
        print(outcome.line(), flush=True)
    bad = [o for o in outcomes if o.stranded or o.failed_without_message]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
