"""Refresh the catalogue: verify every playlist through oEmbed, then (with credentials) search.

Verification needs no credentials: each active playlist is asked for through Spotify's oEmbed
endpoint; its title and cover are stored, and a playlist Spotify says is gone (404) is retired:
never shown again, logged and counted. Search (client credentials) then finds new playlists per
mood profile, scores them and keeps the best.

Progress is committed playlist by playlist and profile by profile, so a failure half-way keeps what
was done. ``QUOTA_EXCEEDED`` stops the whole refresh at once (the report says until when); other
typed errors (``RateLimited``, ``SpotifyUnavailable``) propagate for the caller to retry.
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

from recommender.errors import (
    MalformedAnswer,
    PlaylistGone,
    QuotaExceeded,
    SpotifyUnavailable,
)
from recommender.models import CatalogueState, MoodProfile, Playlist, PlaylistLink
from recommender.oembed import OEmbedClient
from recommender.scoring import Dropped, Scored, score_candidate
from recommender.spotify_client import CatalogueClient, SpotifySettings
from recommender.strategies import check_emotion, check_strategy

log = logging.getLogger(__name__)

KEEP_PER_PROFILE = 6
PAGES_PER_TERM = 2
SEARCH_TTL = timedelta(days=7)
# The daily scheduled refresh (Celery beat in emotune/tasks/catalogue.py reads these).
REFRESH_HOUR_UTC = 4
REFRESH_MINUTE_UTC = 17
# This many oEmbed failures in a row mean Spotify is down, not one slow playlist: stop.
MAX_UNAVAILABLE_IN_A_ROW = 3


def next_scheduled_run(not_before: datetime) -> datetime:
    """The first daily refresh time (04:17 UTC) at or after ``not_before``."""
    not_before = not_before.astimezone(timezone.utc)
    run = not_before.replace(hour=REFRESH_HOUR_UTC, minute=REFRESH_MINUTE_UTC, second=0, microsecond=0)
    return run if run >= not_before else run + timedelta(days=1)


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
    verified: int = 0
    retired: list[str] = field(default_factory=list)
    unverified: Counter[str] = field(default_factory=Counter)
    searched: bool = False
    # Set when QUOTA_EXCEEDED stopped the refresh: the sentence to show, and when it runs again.
    stopped: str | None = None
    resumes_at: datetime | None = None

    def summary(self) -> str:
        """One paragraph a person can read: what was checked, retired, found, and why it stopped."""
        unverified = ", ".join(f"{n} {why}" for why, n in sorted(self.unverified.items())) or "none"
        line = (
            f"{self.verified} playlists verified through oEmbed, {len(self.retired)} retired as gone"
            f"{' (' + ', '.join(self.retired) + ')' if self.retired else ''}, not checked: {unverified}"
        )
        if self.searched:
            dropped = ", ".join(f"{n} {why}" for why, n in sorted(self.dropped.items())) or "none"
            line += (
                f"; {self.profiles} profiles searched; {self.added} playlists added, {self.updated} updated, "
                f"{self.linked} links written, {self.expired} expired; dropped: {dropped}; "
                f"malformed items skipped: {self.malformed}"
            )
        else:
            line += "; search skipped (no client credentials)"
        if self.stopped:
            line += f". STOPPED: {self.stopped}"
        return line


def spotify_configured(config: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether the catalogue can refresh from Spotify, and a plain sentence saying so."""
    settings = SpotifySettings.from_config(config)
    if settings.has_client_credentials:
        return True, "Spotify credentials are set: the catalogue refreshes from Spotify search."
    return False, (
        "Spotify credentials are not set (SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET): playlists come "
        "from the seeded catalogue, verified through oEmbed (no credentials needed), and no new ones "
        "are searched."
    )


def profiles(session: Session, emotion: str | None = None, strategy: str | None = None) -> list[MoodProfile]:
    """Mood profiles in emotion/strategy order, all or those of one emotion and/or strategy."""
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


def _upsert(session: Session, scored: Scored, now: datetime, report: RefreshReport) -> Playlist | None:
    c = scored.candidate
    playlist = session.scalar(select(Playlist).where(Playlist.spotify_id == c.spotify_id))
    if playlist is not None and playlist.retired_at is not None:
        return None  # Spotify said it was gone once; search finding it again does not bring it back
    if playlist is None:
        playlist = Playlist(spotify_id=c.spotify_id, source="search")
        session.add(playlist)
        report.added += 1
    else:
        report.updated += 1
    playlist.name, playlist.description, playlist.owner = c.name, c.description, c.owner
    playlist.url, playlist.image_url, playlist.track_count = c.url, c.image_url, c.track_count
    playlist.fetched_at = now
    playlist.verified_at, playlist.verified_by = now, "search"
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
        if playlist is None:
            continue
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


def retire(playlist: Playlist, reason: str, now: datetime) -> None:
    """Take a playlist out of every result for good, remembering when and why."""
    playlist.active = False
    playlist.retired_at = now
    playlist.retired_reason = reason
    log.warning("Retired playlist %s (%s): %s", playlist.spotify_id, playlist.name, reason)


def verify_catalogue(
    session: Session, oembed: OEmbedClient, report: RefreshReport, now: datetime | None = None,
    emotion: str | None = None, strategy: str | None = None,
) -> None:
    """Ask oEmbed about every active playlist: store title and cover, retire the gone ones.

    A malformed or slow answer leaves that playlist as it was (counted as not checked); several
    unavailable answers in a row mean Spotify is down, and ``SpotifyUnavailable`` propagates.
    ``QuotaExceeded`` propagates at once, after committing what was done. With ``emotion`` or
    ``strategy`` only the playlists linked under them are checked.
    """
    now = now or datetime.now(timezone.utc)
    query = select(Playlist).where(Playlist.active.is_(True), Playlist.retired_at.is_(None)).order_by(Playlist.id)
    if emotion or strategy:
        linked = select(PlaylistLink.playlist_id)
        if emotion:
            linked = linked.where(PlaylistLink.emotion == check_emotion(emotion))
        if strategy:
            linked = linked.where(PlaylistLink.strategy == check_strategy(strategy))
        query = query.where(Playlist.id.in_(linked))
    playlists = session.scalars(query).all()
    unavailable_in_a_row = 0
    for playlist in playlists:
        try:
            info = oembed.playlist(playlist.spotify_id)
        except PlaylistGone as exc:
            retire(playlist, exc.message, now)
            report.retired.append(playlist.spotify_id)
        except MalformedAnswer as exc:
            log.warning("oEmbed: %s Kept as it was.", exc.message)
            report.unverified["malformed"] += 1
        except SpotifyUnavailable as exc:
            log.warning("oEmbed: %s Kept as it was.", exc.message)
            report.unverified["unavailable"] += 1
            unavailable_in_a_row += 1
            if unavailable_in_a_row >= MAX_UNAVAILABLE_IN_A_ROW:
                session.commit()
                raise
            continue
        except QuotaExceeded:
            session.commit()
            raise
        else:
            playlist.name = info.title
            if info.cover_url:
                playlist.image_url = info.cover_url
            playlist.verified_at, playlist.verified_by = now, "oembed"
            report.verified += 1
        unavailable_in_a_row = 0
        session.commit()


def refresh_catalogue(
    session: Session, client: CatalogueClient | None, emotion: str | None = None,
    strategy: str | None = None, pages: int = PAGES_PER_TERM, now: datetime | None = None,
    oembed: OEmbedClient | None = None,
) -> RefreshReport:
    """Verify the catalogue through oEmbed (when given), then search every profile (with a client).

    ``QUOTA_EXCEEDED`` stops everything: the report's ``stopped`` says so and ``resumes_at`` is the
    first scheduled run after Spotify's Retry-After.
    """
    report = RefreshReport()
    now = now or datetime.now(timezone.utc)
    state = CatalogueState.get(session)
    paused_until = state.quota_paused_until
    if paused_until is not None and paused_until.tzinfo is None:
        paused_until = paused_until.replace(tzinfo=timezone.utc)  # SQLite drops the zone
    if paused_until is not None and paused_until > now:
        report.resumes_at = paused_until
        report.stopped = (
            f"Spotify's quota for this app is still used up ({state.quota_reason}); nothing was asked. "
            f"The refresh runs again at the scheduled run of {paused_until:%Y-%m-%d %H:%M} UTC."
        )
        session.rollback()
        log.warning("Catalogue refresh skipped: %s", report.stopped)
        return report
    try:
        if oembed is not None:
            verify_catalogue(session, oembed, report, now, emotion=emotion, strategy=strategy)
        if client is not None:
            report.searched = True
            for profile in profiles(session, emotion, strategy):
                refresh_profile(session, client, profile, report, pages=pages, now=now)
            report.expired = expire_stale(session, now)
    except QuotaExceeded as exc:
        session.rollback()
        report.resumes_at = next_scheduled_run(now + timedelta(seconds=exc.retry_after))
        report.stopped = (
            f"Spotify's quota for this app is used up (QUOTA_EXCEEDED, Retry-After {exc.retry_after / 3600:.1f} h); "
            f"the whole refresh stopped and runs again at the scheduled run of "
            f"{report.resumes_at:%Y-%m-%d %H:%M} UTC. Everything done before is kept."
        )
        # Remembered, so that scheduled or manual runs before then do not spend requests on it.
        state = CatalogueState.get(session)
        state.quota_paused_until = report.resumes_at
        state.quota_reason = f"QUOTA_EXCEEDED at {now:%Y-%m-%d %H:%M} UTC"
        session.commit()
        log.warning("Catalogue refresh stopped: %s", report.stopped)
    log.info("Catalogue refresh: %s", report.summary())
    return report
