"""Thumbs up or down on a recommended playlist: one vote per browser session, playlist, emotion and strategy.

A vote belongs to the analysis's own browser session (the web layer passes its key). Voting again
changes that session's vote and never adds a second one, so "liked by N" counts distinct sessions
and one person cannot stuff the ranking; withdrawing removes the vote.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recommender.models import Feedback, Playlist, utcnow
from recommender.strategies import check_emotion, check_strategy

VOTES = {"up": 1, "down": -1, 1: 1, -1: -1}


class UnknownPlaylist(LookupError):
    """The voted playlist is not in the catalogue."""


@dataclass(frozen=True)
class VoteResult:
    """The stored vote and whether it was new (``created``) or changed an earlier one."""

    feedback: Feedback
    created: bool


def parse_vote(vote: str | int) -> int:
    """Map 'up'/'down'/+1/-1 to +1/-1; anything else raises ValueError saying what is allowed.

    ``true`` and ``1.0`` equal 1 in Python, so only a str or a true int is looked up.
    """
    try:
        if type(vote) not in (str, int):
            raise TypeError
        return VOTES[vote]
    except (KeyError, TypeError):
        shown = repr(vote) if len(repr(vote)) <= 40 else repr(vote)[:40] + "..."
        raise ValueError(f"Unknown vote {shown}: send 'up' or 'down'.") from None


def record_vote(
    session: Session, spotify_id: str, emotion: str, strategy: str, vote: str | int, voter: str
) -> VoteResult:
    """Store ``voter``'s vote (insert, or change their earlier one) and commit."""
    value = parse_vote(vote)
    check_emotion(emotion)
    check_strategy(strategy)
    playlist = session.scalar(select(Playlist).where(Playlist.spotify_id == spotify_id))
    if playlist is None:
        raise UnknownPlaylist(f"Playlist {spotify_id!r} is not in the catalogue; vote on a recommended one.")
    feedback = session.scalar(
        select(Feedback).where(
            Feedback.session_key == voter, Feedback.playlist_id == playlist.id,
            Feedback.emotion == emotion, Feedback.strategy == strategy,
        )
    )
    created = feedback is None
    if feedback is None:
        feedback = Feedback(playlist_id=playlist.id, emotion=emotion, strategy=strategy, vote=value,
                            session_key=voter)
        session.add(feedback)
    else:
        feedback.vote, feedback.updated_at = value, utcnow()
    session.commit()
    return VoteResult(feedback, created)


def withdraw_vote(session: Session, spotify_id: str, emotion: str, strategy: str, voter: str) -> bool:
    """Remove ``voter``'s vote on this playlist for the pair and commit; False when there was none."""
    check_emotion(emotion)
    check_strategy(strategy)
    feedback = session.scalar(
        select(Feedback).join(Playlist, Playlist.id == Feedback.playlist_id).where(
            Playlist.spotify_id == spotify_id, Feedback.session_key == voter,
            Feedback.emotion == emotion, Feedback.strategy == strategy,
        )
    )
    if feedback is None:
        return False
    session.delete(feedback)
    session.commit()
    return True


def card_votes(
    session: Session, spotify_ids: list[str], emotion: str, strategy: str, voter: str | None
) -> dict[str, tuple[int, int | None]]:
    """Per playlist: how many distinct sessions liked it for this pair, and ``voter``'s own vote."""
    if not spotify_ids:
        return {}
    liked = dict(
        session.execute(
            select(Playlist.spotify_id, func.count(func.distinct(Feedback.session_key)))
            .join(Feedback, Feedback.playlist_id == Playlist.id)
            .where(Playlist.spotify_id.in_(spotify_ids), Feedback.emotion == emotion,
                   Feedback.strategy == strategy, Feedback.vote == 1)
            .group_by(Playlist.spotify_id)
        ).all()
    )
    mine: dict[str, int] = {}
    if voter:
        mine = dict(
            session.execute(
                select(Playlist.spotify_id, Feedback.vote)
                .join(Feedback, Feedback.playlist_id == Playlist.id)
                .where(Playlist.spotify_id.in_(spotify_ids), Feedback.emotion == emotion,
                       Feedback.strategy == strategy, Feedback.session_key == voter)
            ).all()
        )
    return {sid: (int(liked.get(sid, 0)), mine.get(sid)) for sid in spotify_ids}
