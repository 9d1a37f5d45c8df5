"""Catalogue tables: playlists, mood profiles, emotion links, feedback votes and Spotify user tokens.

They subclass the shared Flask-free ``Base`` so the recommender can query them with a plain
SQLAlchemy ``Session`` while the web app and Alembic see the same metadata.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from recommender.base import Base
from recommender.errors import NoMoodProfile


def utcnow() -> datetime:
    """Timezone-aware now, the one clock every catalogue timestamp uses."""
    return datetime.now(timezone.utc)


class Playlist(Base):
    """A Spotify playlist the app may recommend; one row per Spotify id (duplicates merge)."""

    __tablename__ = "playlists"
    __table_args__ = (
        CheckConstraint("source IN ('seeded', 'search', 'user')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    spotify_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(500))
    image_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    track_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="seeded")
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Searched entries expire so stale results fall out; seeded ones never expire.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    # What the playlist is (mood, energy, genre, language, kind): each card's reason is built from it.
    tags: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    # Where its id was found (a public repository file or page), for seeded entries.
    provenance: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Last successful check that it still exists, and how ("oembed" or "search").
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Set when Spotify said it is gone; a retired playlist is never shown again.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    retired_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    links: Mapped[list[PlaylistLink]] = relationship(
        back_populates="playlist", cascade="all, delete-orphan"
    )

    @property
    def embed_url(self) -> str:
        """The URL Spotify's embed player accepts for this playlist without credentials."""
        return f"https://open.spotify.com/embed/playlist/{self.spotify_id}"


class MoodProfile(Base):
    """What music fits one emotion under one strategy: search terms, wanted and unwanted words."""

    __tablename__ = "mood_profiles"
    __table_args__ = (UniqueConstraint("emotion", "strategy", name="emotion_strategy"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    emotion: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(120), default="")
    search_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    wanted_words: Mapped[list[str]] = mapped_column(JSON, default=list)
    unwanted_words: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    @classmethod
    def lookup(cls, session: Session, emotion: str, strategy: str) -> MoodProfile:
        """The profile of one emotion-strategy pair, or ``NoMoodProfile`` saying how to create it."""
        profile = session.scalar(select(cls).where(cls.emotion == emotion, cls.strategy == strategy))
        if profile is None:
            raise NoMoodProfile(
                f"There is no mood profile for {emotion}/{strategy} yet: run `flask seed-playlists` first."
            )
        return profile


class PlaylistLink(Base):
    """A playlist placed under an emotion-strategy pair, with its rank and profile score."""

    __tablename__ = "playlist_links"
    __table_args__ = (
        UniqueConstraint("playlist_id", "emotion", "strategy", name="playlist_emotion_strategy"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    playlist_id: Mapped[int] = mapped_column(ForeignKey("playlists.id", ondelete="CASCADE"))
    emotion: Mapped[str] = mapped_column(String(16), index=True)
    strategy: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(Float, default=0.0)

    playlist: Mapped[Playlist] = relationship(back_populates="links")


class Feedback(Base):
    """One browser session's thumbs-up (+1) or thumbs-down (-1) on a playlist for an emotion and strategy.

    One row per (session, playlist, emotion, strategy): voting again changes the vote, never adds one.
    Rows from before votes were tied to sessions have no ``session_key``.
    """

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("vote IN (-1, 1)", name="vote"),
        UniqueConstraint("session_key", "playlist_id", "emotion", "strategy", name="one_vote_per_session"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    playlist_id: Mapped[int] = mapped_column(
        ForeignKey("playlists.id", ondelete="CASCADE"), index=True
    )
    emotion: Mapped[str] = mapped_column(String(16))
    strategy: Mapped[str] = mapped_column(String(16))
    vote: Mapped[int] = mapped_column(Integer)
    # The analysis's browser session (or its token's hash for cookie-less API clients).
    session_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CatalogueState(Base):
    """One row: until when Spotify's ``QUOTA_EXCEEDED`` pauses every refresh, and why."""

    __tablename__ = "catalogue_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    quota_paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    quota_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    @classmethod
    def get(cls, session: Session) -> CatalogueState:
        """The single state row, created on first use."""
        state = session.get(cls, 1)
        if state is None:
            state = cls(id=1)
            session.add(state)
        return state


class SpotifyToken(Base):
    """A logged-in user's Spotify tokens, kept on the server (never in the browser)."""

    __tablename__ = "spotify_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random key held in the user's signed session cookie; it names the row, nothing more.
    user_key: Mapped[str] = mapped_column(String(64), unique=True)
    spotify_user_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text, nullable=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
