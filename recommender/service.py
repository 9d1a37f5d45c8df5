"""Serve recommendations from the catalogue alone: no Spotify call ever happens here.

Ranking explores: every visit draws each playlist's appeal from its Beta posterior (Thompson
sampling over the profile score and the votes), so a person who comes back sees a different mix
while well-liked playlists still come first more often. Each card's reason is its own, built from
that playlist's tags, the person's reading and who chose the strategy.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from recommender.models import Feedback, Playlist, PlaylistLink
from recommender.ranking import Votes, rank_value
from recommender.strategies import ASKED, check_emotion, check_strategy, default_strategy

DEFAULT_LIMIT = 6

ADJECTIVES = {
    "Angry": "angry",
    "Disgust": "disgusted",
    "Fear": "afraid",
    "Happy": "happy",
    "Neutral": "neutral",
    "Sad": "sad",
    "Surprise": "surprised",
}

# The reading as it qualifies "mood" in a reason ("a fearful mood", not "an afraid mood").
MOOD_WORDS = {**ADJECTIVES, "Fear": "fearful"}

# What each strategy does to the reading, as the middle of a reason.
PURPOSE = {
    "match": "to stay with {a} {reading} mood",
    "lift": "to lift {a} {reading} mood",
    "calm": "to settle {a} {reading} mood",
}
LANGUAGES = {"es": "Spanish", "ko": "Korean", "hi": "Hindi", "pt": "Portuguese", "fr": "French", "de": "German"}


@dataclass(frozen=True)
class Recommendation:
    """One playlist card: what it is, why it was chosen and how well it ranked (0..1)."""

    spotify_id: str
    name: str
    owner: str | None
    url: str
    embed_url: str
    cover_url: str | None
    track_count: int | None
    reason: str
    score: float
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``docs/ARCHITECTURE.md``."""
        return asdict(self)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def reason_for(
    tags: dict[str, str] | None, name: str, reading: str, strategy: str, chosen_by: str,
    with_name: bool = False, filled_in_from: str | None = None,
) -> str:
    """One line from the playlist's own tags, the reading and who chose the strategy.

    "Peaceful solo piano to settle an angry mood, because you asked to calm down." or
    "Cheerful pop to lift a sad mood; we chose to lift it for you." ``with_name`` puts the
    playlist's name first, to tell apart two cards whose tags read the same. ``filled_in_from``
    names the strategy a stand-in playlist really belongs to, when the chosen one ran short.
    """
    tags = tags or {}
    mood = tags.get("mood") or ""
    genre = tags.get("genre") or "music"
    what = f"{mood} {genre}".strip()
    language = tags.get("language")
    if language in LANGUAGES:
        what += f" sung in {LANGUAGES[language]}"
    elif language == "instrumental" and "instrumental" not in what:
        what = f"instrumental {what}" if not mood else f"{mood} instrumental {genre}"
    if filled_in_from:
        purpose = PURPOSE[filled_in_from].format(a=_article(reading), reading=reading)
        line = f"{what} {purpose}, shown because too few {strategy} playlists are available right now."
        line = f"{name}: {line}" if with_name else line
        return line[:1].upper() + line[1:]
    purpose = PURPOSE[strategy].format(a=_article(reading), reading=reading)
    if chosen_by == "you":
        who = f", because you asked to {ASKED[strategy]}"
    else:
        who = {"match": "; we chose to match it", "lift": "; we chose to lift it",
               "calm": "; we chose to calm it"}[strategy]
    line = f"{what} {purpose}{who}."
    if with_name:
        line = f"{name}: {line}"
    return line[:1].upper() + line[1:]


def distinct_reasons(lines: list[tuple[str, str]], build: Any) -> list[str]:
    """Reasons for cards in order, pairwise different: a repeated one is rebuilt with the name."""
    seen: set[str] = set()
    out: list[str] = []
    for key, text in lines:
        if text in seen:
            text = build(key)
        seen.add(text)
        out.append(text)
    return out


def links_with_votes(session: Session, emotion: str, strategy: str,
                     now: datetime) -> tuple[list[PlaylistLink], dict[int, Votes], int]:
    """The pair's live links (playlists loaded), each playlist's votes under the pair, and the pair's
    vote total (votes for playlists no longer live included), in one query.

    One round trip instead of two matters in the worker, where every statement waits on the database.
    """
    per_playlist = (
        select(Feedback.playlist_id.label("playlist_id"),
               func.sum(case((Feedback.vote == 1, 1), else_=0)).label("up"),
               func.sum(case((Feedback.vote == -1, 1), else_=0)).label("down"))
        .where(Feedback.emotion == emotion, Feedback.strategy == strategy)
        .group_by(Feedback.playlist_id)
        .subquery()
    )
    pair_total = (select(func.count()).where(Feedback.emotion == emotion, Feedback.strategy == strategy)
                  .scalar_subquery())
    query = (
        _live_links(emotion, now).where(PlaylistLink.strategy == strategy)
        .add_columns(per_playlist.c.up, per_playlist.c.down, pair_total)
        .outerjoin(per_playlist, per_playlist.c.playlist_id == PlaylistLink.playlist_id)
    )
    links, votes, total = [], {}, 0
    for link, up, down, pair in session.execute(query):
        links.append(link)
        total = pair
        if up or down:
            votes[link.playlist_id] = Votes(up=int(up), down=int(down))
    return links, votes, int(total or 0)


def _live_links(emotion: str, now: datetime) -> Select[tuple[PlaylistLink]]:
    """Links of the emotion to playlists that are active, not retired and not expired, in rank order."""
    return (
        select(PlaylistLink)
        .join(PlaylistLink.playlist)
        .where(
            PlaylistLink.emotion == emotion,
            Playlist.active.is_(True),
            Playlist.retired_at.is_(None),
            or_(Playlist.expires_at.is_(None), Playlist.expires_at > now),
        )
        .order_by(PlaylistLink.rank, PlaylistLink.id)
        # The join already reads each playlist: fill link.playlist from it instead of one query per link.
        .options(contains_eager(PlaylistLink.playlist))
    )


def _links(session: Session, emotion: str, now: datetime) -> list[PlaylistLink]:
    """All live links of the emotion, whatever their strategy (to fill up a short pair)."""
    return list(session.scalars(_live_links(emotion, now)))


def _ranked(links: list[PlaylistLink], votes: dict[int, Votes], pair_votes: int,
            rng: random.Random | None, explore: bool) -> tuple[list[PlaylistLink], dict[int, float]]:
    best: dict[int, tuple[float, PlaylistLink]] = {}
    for link in links:
        value = rank_value(link.score, votes.get(link.playlist_id, Votes()), pair_votes, rng, explore=explore)
        # A playlist linked several times (stand-ins) keeps its best draw: never twice in a result.
        if link.playlist_id not in best or value > best[link.playlist_id][0]:
            best[link.playlist_id] = (value, link)
    ordered = sorted(best.values(), key=lambda pair: (-pair[0], pair[1].rank, pair[1].id))
    return [link for _, link in ordered], {link.playlist_id: value for value, link in ordered}


def recommend(
    session: Session,
    emotion: str,
    strategy: str | None = None,
    limit: int = DEFAULT_LIMIT,
    rng: random.Random | None = None,
    chosen_by: str | None = None,
    reading: str | None = None,
    explore: bool = True,
) -> list[Recommendation]:
    """The ``limit`` playlists for an emotion and strategy, explored by Thompson sampling.

    ``chosen_by`` is "you" when the person picked ``strategy`` and "us" when it is the emotion's
    default (the default when ``strategy`` is None). When the pair holds fewer than ``limit``
    playlists, the emotion's other playlists fill up the result; no playlist appears twice.
    """
    check_emotion(emotion)
    if chosen_by is None:
        chosen_by = "you" if strategy else "us"
    strategy = check_strategy(strategy) if strategy else default_strategy(emotion)
    reading = reading or MOOD_WORDS[emotion]
    now = datetime.now(timezone.utc)
    # One generator for every draw of this call: seeding one costs more than the draws it makes.
    rng = rng or random.Random()
    links, votes, pair_votes = links_with_votes(session, emotion, strategy, now)
    ordered, values = _ranked(links, votes, pair_votes, rng, explore)
    filled: dict[str, str] = {}  # stand-in playlist -> the strategy it really belongs to
    if len(ordered) < limit:
        others, other_values = _ranked(_links(session, emotion, now), {}, 0, rng, explore)
        have = {link.playlist_id for link in ordered}
        for link in others:
            if link.playlist_id not in have:
                ordered.append(link)
                values[link.playlist_id] = other_values[link.playlist_id] * 0.5
                filled[link.playlist.spotify_id] = link.strategy
                have.add(link.playlist_id)
    chosen = [link.playlist for link in ordered[:limit]]
    by_id = {p.spotify_id: p for p in chosen}

    def build(spotify_id: str, with_name: bool = False) -> str:
        p = by_id[spotify_id]
        return reason_for(p.tags, p.name, reading, strategy, chosen_by, with_name=with_name,
                          filled_in_from=filled.get(spotify_id))

    reasons = distinct_reasons(
        [(p.spotify_id, build(p.spotify_id)) for p in chosen], lambda sid: build(sid, with_name=True)
    )
    return [
        Recommendation(
            spotify_id=p.spotify_id,
            name=p.name,
            owner=p.owner or None,
            url=p.url,
            embed_url=p.embed_url,
            cover_url=p.image_url,
            track_count=p.track_count,
            reason=reason,
            score=round(values[p.id], 4),
            tags=dict(p.tags or {}),
        )
        for p, reason in zip(chosen, reasons)
    ]


def showable_ids(session: Session, emotion: str, strategy: str, limit: int = DEFAULT_LIMIT) -> set[str]:
    """The Spotify ids ``recommend`` can show for this emotion and strategy: the pair's live
    playlists, and the emotion's others when the pair holds fewer than ``limit`` (its fill-ins)."""
    now = datetime.now(timezone.utc)
    ids = {link.playlist.spotify_id for link in links_with_votes(session, emotion, strategy, now)[0]}
    if len(ids) < limit:
        ids |= {link.playlist.spotify_id for link in _links(session, emotion, now)}
    return ids
