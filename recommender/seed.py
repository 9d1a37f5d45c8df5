"""Load the curated catalogue and mood profiles committed in ``recommender/data/``.

Idempotent: rows already present keep their refreshed name, cover and state (a retired playlist
stays retired); only their tags and provenance, which the data file owns, are brought up to date,
and missing playlists, links and profiles are added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.models import MoodProfile, Playlist, PlaylistLink
from recommender.strategies import check_emotion, check_strategy

DATA_DIR = Path(__file__).with_name("data")
PLAYLISTS_FILE = DATA_DIR / "playlists.json"
PROFILES_FILE = DATA_DIR / "profiles.json"


@dataclass(frozen=True)
class SeedReport:
    """What a seeding run added."""

    playlists: int
    links: int
    profiles: int


def seeded_score(rank: int) -> float:
    """Curated playlists start high, in their curated order."""
    return round(max(0.5, 0.9 - 0.05 * (rank - 1)), 4)


def load_json(path: Path) -> dict[str, Any]:
    """Read one of the committed data files."""
    return json.loads(path.read_text(encoding="utf-8"))


def profile_rows(path: Path = PROFILES_FILE) -> list[dict[str, Any]]:
    """The committed profile definitions, checked for known emotions and strategies."""
    rows = load_json(path)["profiles"]
    for row in rows:
        check_emotion(row["emotion"])
        check_strategy(row["strategy"])
    return rows


def apply_profile(profile: MoodProfile, row: dict[str, Any]) -> None:
    """Copy a profile definition onto a row."""
    profile.label = row.get("label", "")
    profile.search_terms = list(row["search_terms"])
    profile.wanted_words = list(row["wanted_words"])
    profile.unwanted_words = list(row.get("unwanted_words", []))


def seed_profiles(session: Session, reset: bool = False) -> int:
    """Add missing mood profiles (or overwrite all with ``reset``); returns how many were written."""
    existing = {(p.emotion, p.strategy): p for p in session.scalars(select(MoodProfile))}
    written = 0
    for row in profile_rows():
        key = (row["emotion"], row["strategy"])
        profile = existing.get(key)
        if profile is None:
            profile = MoodProfile(emotion=key[0], strategy=key[1])
            session.add(profile)
        elif not reset:
            continue
        apply_profile(profile, row)
        written += 1
    return written


def seed_catalogue(session: Session) -> SeedReport:
    """Add the curated playlists, their emotion links and the mood profiles; commits."""
    profiles = seed_profiles(session)
    by_id = {p.spotify_id: p for p in session.scalars(select(Playlist))}
    playlists_added = links_added = 0
    for row in load_json(PLAYLISTS_FILE)["playlists"]:
        playlist = by_id.get(row["spotify_id"])
        if playlist is None:
            playlist = Playlist(
                spotify_id=row["spotify_id"],
                name=row["name"],
                description=row.get("description", ""),
                owner=row.get("owner") or "",
                url=row["url"],
                image_url=row.get("image_url"),
                track_count=row.get("track_count"),
                source="seeded",
                active=True,
            )
            session.add(playlist)
            session.flush()
            by_id[playlist.spotify_id] = playlist
            playlists_added += 1
        if playlist.source == "seeded":
            playlist.tags = dict(row.get("tags") or {})
            playlist.provenance = row.get("source")
        have = {(link.emotion, link.strategy) for link in playlist.links}
        for link in row["links"]:
            key = (check_emotion(link["emotion"]), check_strategy(link["strategy"]))
            if key in have:
                continue
            playlist.links.append(
                PlaylistLink(
                    emotion=key[0], strategy=key[1], rank=link["rank"], score=seeded_score(link["rank"])
                )
            )
            have.add(key)
            links_added += 1
    session.commit()
    return SeedReport(playlists=playlists_added, links=links_added, profiles=profiles)
