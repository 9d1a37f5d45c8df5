"""The sweep (emotune.recovery.sweep) on a simulated clock: probes every interval, lost analyses found.

With a probe every sweep interval the newest probe taken is always seconds old, so the sweep must
judge by the newest probe taken long enough ago, or it never finds an analysis lost (Redis
restarted empty: all would stay queued).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from emotune import lifecycle, recovery
from emotune.extensions import db
from emotune.models import Analysis, QueueMark, Status, as_utc, utcnow


class Clock:
    """A settable ``utcnow`` for the lifecycle and recovery modules."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(lifecycle, "utcnow", clock)
    monkeypatch.setattr(recovery, "utcnow", clock)
    return clock


def queued(clock: Clock) -> Analysis:
    analysis = lifecycle.create(None, "browser")
    analysis.created_at = clock.now
    db.session.commit()
    return analysis


def run_probes(queue: str, clock: Clock, seconds: float, interval: float = 2) -> None:
    """A healthy worker: every ``interval`` a sweep sends a probe that is taken at once."""
    elapsed = 0.0
    while elapsed < seconds:
        recovery.sweep(queue, clock.now)
        recovery.mark_taken(queue, clock.now)
        clock.advance(interval)
        elapsed += interval


def test_a_lost_analysis_fails_although_probes_keep_flowing(app: Flask, clock: Clock) -> None:
    queue = app.config["EMOTUNE_QUEUE"]
    with app.test_request_context():
        lost = queued(clock)
        # Its message is gone (broker restarted empty); the queue keeps moving.
        clock.advance(recovery.ENQUEUE_SLACK_S + 1)
        fresh_probes = recovery.lost_after_s() + 6
        run_probes(queue, clock, fresh_probes)
        late = queued(clock)  # enqueued just now: it must not be judged lost
        recovery.sweep(queue, clock.now)
        db.session.refresh(lost)
        db.session.refresh(late)
        assert lost.status == Status.FAILED and lost.error_code == "lost"
        assert "upload it again" in lost.error_message
        assert late.status == Status.QUEUED


def test_nothing_is_lost_before_a_probe_is_old_enough(app: Flask, clock: Clock) -> None:
    queue = app.config["EMOTUNE_QUEUE"]
    with app.test_request_context():
        analysis = queued(clock)
        clock.advance(recovery.ENQUEUE_SLACK_S + 1)
        # Probes taken, but none yet lost_after_s ago: a message may still wait in a worker.
        run_probes(queue, clock, recovery.lost_after_s() - 4)
        assert recovery.sweep(queue, clock.now).lost == 0
        db.session.refresh(analysis)
        assert analysis.status == Status.QUEUED


def test_taken_probes_are_pruned_and_the_queue_row_holds_the_newest(app: Flask, clock: Clock) -> None:
    queue = app.config["EMOTUNE_QUEUE"]
    interval = 2
    with app.test_request_context():
        run_probes(queue, clock, 5 * recovery.lost_after_s(), interval)
        recovery.sweep(queue, clock.now)
        rows = db.session.scalars(select(QueueMark).where(QueueMark.queue.startswith(queue))).all()
        probes = [row for row in rows if row.queue != queue]
        # Only those not yet settled, plus the settled one.
        assert len(probes) <= recovery.lost_after_s() // interval + 2
        mark = db.session.get(QueueMark, queue)
        assert as_utc(mark.sent_at) == max(as_utc(row.sent_at) for row in probes)
        # A redelivered probe does not add a row or move its taking.
        newest = max(probes, key=lambda row: as_utc(row.sent_at))
        taken = newest.taken_at
        clock.advance(30)
        recovery.mark_taken(queue, as_utc(newest.sent_at))
        db.session.refresh(newest)
        assert newest.taken_at == taken
