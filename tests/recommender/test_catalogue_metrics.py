"""The catalogue refresh's calls to Spotify in the metrics, by outcome (emotune.metrics_tasks)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from emotune import metrics_tasks  # noqa: F401  (connects the signal handlers, as the worker does)
from emotune.tasks.catalogue import refresh_playlists
from tests.recommender.test_catalogue_tasks import RetryRecorder
from tests.spotify_stub import Scripted, SpotifyStub


def refreshes(outcome: str) -> float:
    return REGISTRY.get_sample_value("emotune_spotify_calls_total",
                                     {"call": "catalogue_refresh", "outcome": outcome}) or 0.0


@pytest.mark.parametrize("outcome", ["ok", "rate_limited", "unavailable", "quota_exceeded"])
def test_each_refresh_is_counted_by_how_it_ended(stub_app, stub: SpotifyStub, monkeypatch: pytest.MonkeyPatch,
                                                 outcome: str) -> None:
    monkeypatch.setattr(refresh_playlists, "retry", RetryRecorder())
    script = {"rate_limited": Scripted.rate_limited(3600), "unavailable": Scripted.server_error(502),
              "quota_exceeded": Scripted.quota_exceeded(20 * 3600)}.get(outcome)
    if script is not None:
        stub.script("/v1/search", script)
    before = {name: refreshes(name) for name in ("ok", "rate_limited", "unavailable", "quota_exceeded", "failed")}
    with stub_app.app_context():
        refresh_playlists.apply(kwargs={"emotion": "Fear", "strategy": "calm"})
    after = {name: refreshes(name) for name in before}
    assert {name: after[name] - before[name] for name in before} == {
        name: 1.0 if name == outcome else 0.0 for name in before}
