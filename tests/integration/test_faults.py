"""Each fault the service must survive, injected against a Redis and a PostgreSQL the test starts on its own ports.

Redis restarted without persistence while analyses wait, PostgreSQL down while messages wait (then
back), a worker started against the wrong database, a worker SIGKILLed mid-analysis: every analysis
must end done or failed with a message that says what to do, within 2 minutes of the fault
clearing, none left queued or running. The scenarios live in ``tests/integration/faults.py``
(``python -m benchmarks.faults`` runs them with more analyses and prints the counts).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.faults import RECOVERY_BOUND_S, SCENARIOS, stack

pytestmark = pytest.mark.integration

# Few analyses: enough for every path (queued, delivered, running), small for a shared machine.
ANALYSES = 3


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_analysis_ends_after_the_fault(scenario: str, servers_available: None, tmp_path: Path,
                                             plan_model_tflite: Path, face_jpeg: bytes) -> None:
    with stack(plan_model_tflite, face_jpeg, tmp_path) as s:
        outcome = SCENARIOS[scenario](s, ANALYSES)
        print(outcome.line())
        assert outcome.stranded == 0, f"{outcome.line()}\n{s.logs()}"
        assert outcome.failed_without_message == 0, outcome.line()
        assert outcome.done + outcome.failed_with_message == ANALYSES
        assert outcome.recovery_s <= RECOVERY_BOUND_S
        if scenario in ("postgres_down", "worker_killed"):
            # The database came back / Redis redelivered the killed worker's messages: all ran.
            assert outcome.done == ANALYSES, outcome.line()
        if scenario == "wrong_database":
            assert f"{ANALYSES} of {ANALYSES} skipped messages logged at WARNING" in outcome.note, s.logs()
