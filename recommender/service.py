"""Serve recommendations from the catalogue alone: no Spotify call ever happens here."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, contains_eager

from recommender.models import Feedback, MoodProfile, Playlist, PlaylistLink
from recommender.ranking import Votes, rank_value
from recommender.strategies import check_emotion, check_strategy, default_strategy

ADJECTIVES = {
    "Angry": "angry",
    "Disgust": "disgusted",
    "Fear": "afraid",
    "Happy": "happy",
    "Neutral": "neutral",
    "Sad": "sad",
    "Surprise": "surprised",
}


@dataclass(frozen=True)
class Recommendation:
    """One playlist to show, with why it was chosen and how well it ranks (0..1)."""

    spotify_id: str
    name: str
    owner: str
    url: str
    embed_url: str
    image_url: str | None
    track_count: int | None
    reason: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``docs/ARCHITECTURE.md``."""
        return asdict(self)


def reason_for(label: str, emotion: str, strategy: str, votes: Votes) -> str:
    """One line saying why: '<profile> playlist because you look <emotion> and chose <strategy>'."""
    line = f"{label} playlist because you look {ADJECTIVES[emotion]} and chose {strategy}"
    if votes.up > votes.down:
        line += f" (liked {votes.up} time{'s' if votes.up != 1 else ''})"
    return line[:1].upper() + line[1:]


def vote_counts(session: Session, emotion: str, strategy: str) -> dict[int, Votes]:
    """Up and down votes per playlist row id for one emotion-strategy pair."""
    rows = session.execute(
        select(Feedback.playlist_id, Feedback.vote, func.count())
        .where(Feedback.emotion == emotion, Feedback.strategy == strategy)
        .group_by(Feedback.playlist_id, Feedback.vote)
    ).all()
    counts: dict[int, dict[int, int]] = {}
    for playlist_id, vote, n in rows:
        counts.setdefault(playlist_id, {})[vote] = n
    return {pid: Votes(up=c.get(1, 0), down=c.get(-1, 0)) for pid, c in counts.items()}


def _links(session: Session, emotion: str, strategy: str | None, now: datetime) -> list[PlaylistLink]:
    query = (
        select(PlaylistLink)
        .join(PlaylistLink.playlist)
        .where(
            PlaylistLink.emotion == emotion,
            Playlist.active.is_(True),
            or_(Playlist.expires_at.is_(None), Playlist.expires_at > now),
        )
        .order_by(PlaylistLink.rank, PlaylistLink.id)
        # The join already reads each playlist: fill link.playlist from it instead of one query per link.
        .options(contains_eager(PlaylistLink.playlist))
    )
    if strategy is not None:
        query = query.where(PlaylistLink.strategy == strategy)
    return list(session.scalars(query))


def recommend(
    session: Session,
    emotion: str,
    strategy: str | None = None,
    limit: int = 4,
    rng: random.Random | None = None,
) -> list[Recommendation]:
    """Best ``limit`` playlists for an emotion and strategy, ranked by profile score and votes.

    When the pair has no playlists yet, the emotion's other playlists stand in, so an analysis
    always gets music while the catalogue holds anything for that emotion.
    """
    check_emotion(emotion)
    strategy = check_strategy(strategy) if strategy else default_strategy(emotion)
    now = datetime.now(timezone.utc)
    links = _links(session, emotion, strategy, now) or _links(session, emotion, None, now)
    profile = session.scalar(
        select(MoodProfile).where(MoodProfile.emotion == emotion, MoodProfile.strategy == strategy)
    )
    label = profile.label if profile and profile.label else strategy
    votes = vote_counts(session, emotion, strategy)
    pair_votes = sum(v.total for v in votes.values())
    best: dict[int, tuple[float, PlaylistLink]] = {}
    for link in links:
        value = rank_value(link.score, votes.get(link.playlist_id, Votes()), pair_votes, rng)
        # Stand-in links may repeat a playlist under several strategies; keep its best.
        if link.playlist_id not in best or value > best[link.playlist_id][0]:
            best[link.playlist_id] = (value, link)
    ranked = sorted(best.values(), key=lambda pair: (-pair[0], pair[1].rank, pair[1].id))
    recs = []
    for value, link in ranked[:limit]:
        p = link.playlist
        recs.append(
            Recommendation(
                spotify_id=p.spotify_id,
                name=p.name,
                owner=p.owner,
                url=p.url,
                embed_url=p.embed_url,
                image_url=p.image_url,
                track_count=p.track_count,
                reason=reason_for(label, emotion, strategy, votes.get(p.id, Votes())),
                score=round(value, 4),
            )
        )
    return recs
