"""The web app's own tables: analyses of a selfie and the faces found in each.

The catalogue tables live in ``recommender.models`` on the same declarative base; importing that
module here makes sure Alembic sees every table whenever the app's models are loaded.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Float, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

import emotune.field_accuracy  # noqa: F401  (registers the field counts on the same metadata)
import recommender.models  # noqa: F401  (registers the catalogue tables on the shared metadata)
from emotune.extensions import db
from recognizer.emotions import EMOTIONS
from recommender.choice import MusicChoice, MusicSource


class Status(StrEnum):
    """Where an analysis stands; ``emotune.lifecycle`` is the only code that moves it."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Stage(StrEnum):
    """What a running analysis is doing, finer than its status, for the page's progress line."""

    QUEUED = "queued"
    ANALYSING = "analysing"
    DONE = "done"
    FAILED = "failed"


FINISHED = (Status.DONE, Status.FAILED)


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def utcnow() -> datetime:
    """Timezone-aware now; every timestamp of these tables uses it."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Analysis(db.Model):
    """One selfie's trip through the queue, the recognizer and the recommender (never the image)."""

    __tablename__ = "analyses"
    __table_args__ = (
        CheckConstraint(_one_of("status", Status), name="status"),
        CheckConstraint(_one_of("stage", Stage), name="stage"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(String(16), default=Status.QUEUED)
    stage: Mapped[str] = mapped_column(String(16), default=Stage.QUEUED)
    # The strategy the user asked for; None means "the emotion's default".
    strategy: Mapped[str | None] = mapped_column(String(16), nullable=True)
    session_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    notice_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    notice_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    model_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timings_ms: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    image_width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    image_height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The music decision (recommender.choice.MusicChoice as JSON): the emotion the music follows,
    # the group's, the face's or the one the person said, the strategy, who chose it and why. None without a face.
    music: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # How sure the reading the music follows is: the group's top probability, else the face's confidence.
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The group's reading (recognizer.group.GroupReading as JSON) for two or more faces, else None.
    group_reading: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Detections not read, each {"box": {x, y, width, height}, "reason": "..."} (too small, not a
    # person's face), and readable faces beyond the recognizer's 16 that were left out.
    ignored_faces: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    faces_left_out: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Snapshot of the playlists chosen when the analysis ran: {"strategy": .., "playlists": [..]}.
    recommendations: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The key the queued photo is encrypted with (Fernet). It exists only here and only until the
    # analysis ends, so a message left in the broker (or its persistence files) is unreadable.
    photo_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # sha256 of the secret token returned once at creation (API clients without cookies).
    access_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The emotion the person said they feel when the reading was not it (emotune.corrections).
    said_emotion: Mapped[str | None] = mapped_column(String(16), nullable=True)
    said_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    faces: Mapped[list[Face]] = relationship(
        back_populates="analysis",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Face.position",
    )

    @property
    def choice(self) -> MusicChoice | None:
        """The stored music decision, or None while no emotion is known (queued, running, no face)."""
        return MusicChoice.from_json(self.music) if self.music else None

    @property
    def read_emotion(self) -> str | None:
        """The emotion read from the photo: the group's with two or more faces, else the face's.

        The music follows it unless the person said they feel otherwise (``said_emotion``).
        """
        choice = self.choice
        if choice is not None and choice.follows != "said":
            return choice.emotion
        if self.group_reading:
            return self.group_reading["emotion"]
        return self.faces[0].emotion if self.faces else None

    def reading_source(self) -> MusicSource | None:
        """What the music follows by default, as the worker chose it: the group's reading, else the face's."""
        emotion = self.read_emotion
        return MusicSource.of_photo(emotion, len(self.faces)) if emotion else None


class Face(db.Model):
    """A face found in an analysed image: where it is and how likely each emotion is."""

    __tablename__ = "faces"

    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("analyses.id", ondelete="CASCADE"), index=True
    )
    # 0 is the largest face, the recognizer's order ("primary" always means the largest face).
    position: Mapped[int] = mapped_column(Integer)
    box_x: Mapped[int] = mapped_column(Integer)
    box_y: Mapped[int] = mapped_column(Integer)
    box_width: Mapped[int] = mapped_column(Integer)
    box_height: Mapped[int] = mapped_column(Integer)
    p_angry: Mapped[float] = mapped_column(Float)
    p_disgust: Mapped[float] = mapped_column(Float)
    p_fear: Mapped[float] = mapped_column(Float)
    p_happy: Mapped[float] = mapped_column(Float)
    p_neutral: Mapped[float] = mapped_column(Float)
    p_sad: Mapped[float] = mapped_column(Float)
    p_surprise: Mapped[float] = mapped_column(Float)
    emotion: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    is_primary: Mapped[bool] = mapped_column(default=False)

    analysis: Mapped[Analysis] = relationship(back_populates="faces")

    @property
    def probabilities(self) -> dict[str, float]:
        """The seven probabilities keyed by emotion, in the fixed order."""
        return {emotion: getattr(self, f"p_{emotion.lower()}") for emotion in EMOTIONS}

    def set_probabilities(self, values: tuple[float, ...] | list[float]) -> None:
        """Store seven probabilities given in ``EMOTIONS`` order."""
        if len(values) != len(EMOTIONS):
            raise ValueError(f"expected {len(EMOTIONS)} probabilities, got {len(values)}")
        for emotion, value in zip(EMOTIONS, values):
            setattr(self, f"p_{emotion.lower()}", float(value))


class QueueMark(db.Model):
    """The sweep's view of an analysis queue: the newest probe a worker took from it.

    Queues are first in, first out, so once a worker takes a probe sent at ``sent_at``, every
    analysis enqueued before it has been delivered; one still queued well after that was lost.
    """

    __tablename__ = "queue_marks"

    queue: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    swept_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
