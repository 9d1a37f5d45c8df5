"""Field accuracy: how people correct the reading, counted per served model as read vs said.

A correction says "we read neutral, I feel sad". Each analysis adds at most one count, under the
model name and version that read it; replacing the correction moves that count, withdrawing it
takes the count back. The counts hold no photo, no analysis id and no session: deleting history
leaves them, and nobody can be found in them.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from emotune.extensions import db


class FieldCorrection(db.Model):
    """How many analyses this model read as ``read_emotion`` and people said were ``said_emotion``."""

    __tablename__ = "field_corrections"

    model_name: Mapped[str] = mapped_column(String(120), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    read_emotion: Mapped[str] = mapped_column(String(16), primary_key=True)
    said_emotion: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


def _key(model_name: str | None, model_version: str | None, read: str, said: str) -> dict[str, str]:
    return {"model_name": model_name or "unknown", "model_version": model_version or "unknown",
            "read_emotion": read, "said_emotion": said}


def _add(session: Session, key: dict[str, str], step: int) -> None:
    # An UPDATE in the database, not read-then-write, so two corrections at once both count.
    where = [getattr(FieldCorrection, name) == value for name, value in key.items()]
    done = session.execute(update(FieldCorrection).where(*where).values(count=FieldCorrection.count + step))
    if done.rowcount or step < 0:
        return
    try:
        with session.begin_nested():
            session.add(FieldCorrection(**key, count=step))
    except IntegrityError:  # another request inserted the row first
        session.execute(update(FieldCorrection).where(*where).values(count=FieldCorrection.count + step))


def move_count(session: Session, model_name: str | None, model_version: str | None, read: str,
               said_before: str | None, said_now: str | None) -> None:
    """Move one analysis's count from (read, said_before) to (read, said_now); None means no correction.

    The caller commits, together with the analysis's own change.
    """
    if said_before == said_now:
        return
    if said_before is not None:
        _add(session, _key(model_name, model_version, read, said_before), -1)
    if said_now is not None:
        _add(session, _key(model_name, model_version, read, said_now), 1)


def confusion(session: Session) -> dict[tuple[str, str], dict[tuple[str, str], int]]:
    """Per (model name, version): {(read, said): count} for every count above zero."""
    out: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
    for row in session.scalars(select(FieldCorrection).where(FieldCorrection.count > 0)):
        out.setdefault((row.model_name, row.model_version), {})[(row.read_emotion, row.said_emotion)] = row.count
    return out
