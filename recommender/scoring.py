"""Score a searched playlist against a mood profile, or say why it is dropped.

A score in [0, 1] mixes relevance (wanted words in the name count twice those in the
description), size (enough tracks to play a while) and owner (Spotify's editors are trusted).
Empty, spammy or off-topic playlists are dropped with a reason the refresh report counts. Spotify
leaves the track count out of some search items: that is "unknown", scored as middling, not empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from recommender.spotify_client import PlaylistCandidate

MIN_TRACKS = 8
GOOD_TRACKS = 30
MAX_TRACKS = 2000  # Bigger lists are usually dumps, not curated moods.
MAX_NAME_WORDS = 14
UNKNOWN_SIZE = 0.5  # size score of a playlist whose track count Spotify did not say
SPAM_WORDS = (
    "follow", "followers", "promo", "promotion", "submit", "submission", "submissions",
    "sub4sub", "f4f", "giveaway", "free download", "gain", "send your music", "dm me",
)
TRUSTED_OWNERS = ("spotify",)


class ProfileLike(Protocol):
    """What scoring needs from a mood profile (``recommender.models.MoodProfile`` fits)."""

    wanted_words: list[str]
    unwanted_words: list[str]


@dataclass(frozen=True)
class Scored:
    """A kept candidate and its score."""

    candidate: PlaylistCandidate
    score: float


@dataclass(frozen=True)
class Dropped:
    """A rejected candidate and why: ``empty``, ``spam`` or ``off_topic``."""

    candidate: PlaylistCandidate
    reason: str


_WORD = re.compile(r"[a-z0-9']+")


def _words(text: str) -> str:
    """Lower-cased words separated by single spaces, padded so phrases match on word edges."""
    return " " + " ".join(_WORD.findall(text.lower())) + " "


def _contains(haystack: str, phrase: str) -> bool:
    return _words(phrase) in haystack


def is_spam(candidate: PlaylistCandidate) -> bool:
    """Promotion bait, follower farming, or keyword-stuffed names."""
    text = _words(f"{candidate.name} {candidate.description}")
    if any(_contains(text, word) for word in SPAM_WORDS):
        return True
    name_words = _words(candidate.name).split()
    if len(name_words) > MAX_NAME_WORDS:
        return True
    # The same word over and over ("sad sad sad sad songs") is stuffing, not a title.
    return bool(name_words) and max(name_words.count(w) for w in name_words) >= 3


def score_candidate(profile: ProfileLike, candidate: PlaylistCandidate) -> Scored | Dropped:
    """Score ``candidate`` for ``profile``, or drop it as empty, spam or off-topic."""
    tracks = candidate.track_count
    if tracks is not None and (tracks < MIN_TRACKS or tracks > MAX_TRACKS):
        return Dropped(candidate, "empty")
    if is_spam(candidate):
        return Dropped(candidate, "spam")
    name = _words(candidate.name)
    description = _words(candidate.description)
    if any(_contains(name, w) or _contains(description, w) for w in profile.unwanted_words):
        return Dropped(candidate, "off_topic")
    hits = sum(2 for w in profile.wanted_words if _contains(name, w)) + sum(
        1 for w in profile.wanted_words if _contains(description, w) and not _contains(name, w)
    )
    if hits == 0:
        return Dropped(candidate, "off_topic")
    relevance = min(1.0, hits / 4)
    size = UNKNOWN_SIZE if tracks is None else min(1.0, tracks / GOOD_TRACKS)
    owner = 1.0 if candidate.owner.strip().lower() in TRUSTED_OWNERS else 0.4
    score = round(0.6 * relevance + 0.2 * size + 0.2 * owner, 4)
    return Scored(candidate, score)
