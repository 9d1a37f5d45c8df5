"""Thumbs up or down on a recommended playlist, stored per emotion and strategy."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.models import Feedback, Playlist
from recommender.strategies import check_emotion, check_strategy

VOTES = {"up": 1, "down": -1, 1: 1, -1: -1}


class UnknownPlaylist(LookupError):
    """The voted playlist is not in the catalogue."""


def parse_vote(vote: str | int) -> int:
    """Map 'up'/'down'/+1/-1 to +1/-1; anything else raises ValueError saying what is allowed."""
    try:
        return VOTES[vote]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown vote {vote!r}: send 'up' or 'down'.") from None


def record_vote(session: Session, spotify_id: str, emotion: str, strategy: str, vote: str | int) -> Feedback:
    """Store one vote and commit it; the next ``recommend`` for the pair reflects it."""
    value = parse_vote(vote)
    check_emotion(emotion)
    check_strategy(strategy)
    playlist = session.scalar(select(Playlist).where(Playlist.spotify_id == spotify_id))
    if playlist is None:
        raise UnknownPlaylist(f"Playlist {spotify_id!r} is not in the catalogue; vote on a recommended one.")
    feedback = Feedback(playlist_id=playlist.id, emotion=emotion, strategy=strategy, vote=value)
    session.add(feedback)
    session.commit()
    return feedback
