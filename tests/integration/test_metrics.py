"""Metrics of the embedded setup (`emotune`): after a few analyses, the web's /metrics and the
worker's own endpoint (or the web's alone, when both share a multiprocess directory) count them."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import unique_name
from tests.integration.conftest import http_session, poll_done
from tests.integration.processes import free_port, service_env
from tests.integration.test_serve import Emotune, emotune_args

pytestmark = pytest.mark.integration


def samples(url: str, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = requests.get(url, headers=headers, timeout=10)
    assert response.status_code == 200, response.text[:500]
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize("layout", ["worker endpoint", "shared directory"])
def test_a_few_analyses_show_in_the_metrics(tmp_path: Path, face_jpeg: bytes, layout: str) -> None:
    port, worker_port = free_port(), free_port()
    config = {"EMOTUNE_INSTANCE_PATH": str(tmp_path / "instance"), "EMOTUNE_QUEUE": unique_name("emotune_metrics"),
              "EMOTUNE_ANALYSES_RATE_LIMIT": "1000 per minute"}
    if layout == "worker endpoint":
        config["EMOTUNE_WORKER_METRICS_PORT"] = str(worker_port)
    else:
        (tmp_path / "metrics").mkdir()
        config["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    serve = Emotune(emotune_args(port), service_env(config), tmp_path)
    try:
        serve.wait_running()
        base = f"http://127.0.0.1:{port}"
        session, headers = http_session(base)
        for _ in range(2):
            created = session.post(f"{base}/api/analyses", files={"image": ("selfie.jpg", face_jpeg, "image/jpeg")},
                                   headers=headers, timeout=30)
            assert created.status_code == 202, created.text
            done = poll_done(lambda: session.get(f"{base}{created.json()['url']}", timeout=10).json())
            assert done["status"] == "done", done
        refused = session.post(f"{base}/api/analyses", files={"image": ("selfie.jpg", b"hello", "image/jpeg")},
                               headers=headers, timeout=30)
        assert refused.status_code == 400

        web = samples(f"{base}/metrics")
        assert value(web, "emotune_uploads_total") == 2
        assert value(web, "emotune_upload_rejections_total", code="not_an_image") == 1
        if layout == "worker endpoint":
            worker_url = f"http://127.0.0.1:{worker_port}/metrics"
            relayed = requests.get(worker_url, headers={"X-Forwarded-For": "203.0.113.7"}, timeout=10)
            assert relayed.status_code == 403 and relayed.json()["error"]["code"] == "metrics_forbidden"
            worker = samples(worker_url)
        else:
            worker = web  # the web reports every process writing to the shared directory
        assert value(worker, "emotune_analyses_finished_total", status="done", code="none") == 2
        assert value(worker, "emotune_analysis_queue_wait_seconds_count") == 2
        for stage in ("decode", "detect", "classify", "recommend"):
            assert value(worker, "emotune_analysis_stage_seconds_count", stage=stage) == 2, stage
        assert value(worker, "emotune_faces_per_photo_count") == 2
        assert value(worker, "emotune_faces_per_photo_sum") == 2  # one face in each photo
    finally:
        serve.cleanup()
