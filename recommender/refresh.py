"""Refresh the catalogue from Spotify search: per mood profile, score, keep the best, expire the old.

Progress is committed profile by profile, so a rate limit half-way keeps what was done; the
typed error (``RateLimited``, ``SpotifyUnavailable``) then propagates for the caller to retry.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recommender.models import MoodProfile, Playlist, PlaylistLink
from recommender.scoring import Dropped, Scored, score_candidate
from recommender.spotify_client import CatalogueClient, SpotifySettings
from recommender.strategies import check_emotion, check_strategy

log = logging.getLogger(__name__)

KEEP_PER_PROFILE = 6
PAGES_PER_TERM = 2
SEARCH_TTL = timedelta(days=7)


@dataclass
class RefreshReport:
    """What a refresh did: profiles searched, playlists kept and why others were dropped."""

    profiles: int = 0
    added: int = 0
    updated: int = 0
    linked: int = 0
    expired: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    malformed: int = 0

    def summary(self) -> str:
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(self.dropped.items())) or "none"
        return (
            f"{self.profiles} profiles searched; {self.added} playlists added, {self.updated} updated, "
            f"{self.linked} links written, {self.expired} expired; dropped: {dropped}; "
            f"malformed items skipped: {self.malformed}"
        )


def spotify_configured(config: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether the catalogue can refresh from Spotify, and a plain sentence saying so."""
    settings = SpotifySettings.from_config(config)
    if settings.has_client_credentials:
        return True, "Spotify credentials are set: the catalogue refreshes from Spotify search."
    return False, (
        "Spotify credentials are not set (SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET): playlists come "
        "from the seeded catalogue and are not refreshed; Spotify login is off."
    )


def _profiles(session: Session, emotion: str | None, strategy: str | None) -> list[MoodProfile]:
    query = select(MoodProfile).order_by(MoodProfile.emotion, MoodProfile.strategy)
    if emotion:
        query = query.where(MoodProfile.emotion == check_emotion(emotion))
    if strategy:
        query = query.where(MoodProfile.strategy == check_strategy(strategy))
    return list(session.scalars(query))


def _search_profile(
    client: CatalogueClient, profile: MoodProfile, pages: int, report: RefreshReport
) -> list[Scored]:
    best: dict[str, Scored] = {}
    for term in profile.search_terms:
        for page in client.iter_playlists(term, max_pages=pages):
            report.malformed += page.skipped + (1 if page.malformed else 0)
            for candidate in page.items:
                result = score_candidate(profile, candidate)
                if isinstance(result, Dropped):
                    report.dropped[result.reason] += 1
                elif candidate.spotify_id not in best or result.score > best[candidate.spotify_id].score:
                    best[candidate.spotify_id] = result
    return sorted(best.values(), key=lambda s: -s.score)[:KEEP_PER_PROFILE]


def _upsert(session: Session, scored: Scored, now: datetime, report: RefreshReport) -> Playlist:
    c = scored.candidate
    playlist = session.scalar(select(Playlist).where(Playlist.spotify_id == c.spotify_id))
    if playlist is None:
        playlist = Playlist(spotify_id=c.spotify_id, source="search")
        session.add(playlist)
        report.added += 1
    else:
        report.updated += 1
    playlist.name, playlist.description, playlist.owner = c.name, c.description, c.owner
    playlist.url, playlist.image_url, playlist.track_count = c.url, c.image_url, c.track_count
    playlist.fetched_at = now
    playlist.active = True
    # Curated entries never expire; searched ones must be seen again within the TTL.
    playlist.expires_at = None if playlist.source == "seeded" else now + SEARCH_TTL
    session.flush()
    return playlist


def refresh_profile(
    session: Session, client: CatalogueClient, profile: MoodProfile, report: RefreshReport,
    pages: int = PAGES_PER_TERM, now: datetime | None = None,
) -> None:
    """Search one profile, update its links and commit; keeps old links if nothing qualified."""
    now = now or datetime.now(timezone.utc)
    kept = _search_profile(client, profile, pages, report)
    report.profiles += 1
    if not kept:
        log.warning("No playlist qualified for %s/%s; links left as they were", profile.emotion, profile.strategy)
        session.commit()
        return
    links = {
        link.playlist_id: link
        for link in session.scalars(
            select(PlaylistLink).where(
                PlaylistLink.emotion == profile.emotion, PlaylistLink.strategy == profile.strategy
            )
        )
    }
    seen: set[int] = set()
    for rank, scored in enumerate(kept, start=1):
        playlist = _upsert(session, scored, now, report)
        link = links.get(playlist.id)
        if link is None:
            link = PlaylistLink(playlist_id=playlist.id, emotion=profile.emotion, strategy=profile.strategy)
            session.add(link)
        link.rank, link.score = rank, scored.score
        seen.add(playlist.id)
        report.linked += 1
    # Searched playlists this profile no longer finds leave it; curated links stay.
    for playlist_id, link in links.items():
        if playlist_id not in seen and link.playlist.source == "search":
            session.delete(link)
    session.commit()


def expire_stale(session: Session, now: datetime | None = None) -> int:
    """Deactivate searched playlists past their expiry; returns how many."""
    now = now or datetime.now(timezone.utc)
    result = session.execute(
        update(Playlist)
        .where(Playlist.source == "search", Playlist.active.is_(True), Playlist.expires_at < now)
        .values(active=False)
    )
    session.commit()
    return result.rowcount or 0


def refresh_catalogue(
    session: Session, client: CatalogueClient, emotion: str | None = None,
    strategy: str | None = None, pages: int = PAGES_PER_TERM, now: datetime | None = None,
) -> RefreshReport:
    """Refresh every profile (or those of one emotion/strategy), then expire stale entries."""
    report = RefreshReport()
    for profile in _profiles(session, emotion, strategy):
        refresh_profile(session, client, profile, report, pages=pages, now=now)
    report.expired = expire_stale(session, now)
    log.info("Catalogue refresh: %s", report.summary())
    return report
