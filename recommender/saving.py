"""Save a mood's music as a new private playlist in a person's own Spotify account.

The recommender owns this: which tracks (Spotify search for the mood profile's terms, the only
tracks a development-mode app may read freely), the playlist's name and description, and the
typed errors (``NoMoodProfile``, ``LoginRequired``, ``RateLimited``, ``SpotifyError``) that the web
layer translates into its one error style.
"""

from __future__ import annotations

from typing import Any

from spotipy.cache_handler import CacheHandler
from sqlalchemy import select
from sqlalchemy.orm import Session

from recommender.models import MoodProfile, Playlist
from recommender.service import ADJECTIVES
from recommender.spotify_client import SpotifySettings
from recommender.spotify_user import UserClient, pkce_manager
from recommender.strategies import check_emotion, check_strategy

MAX_TRACKS = 30


def playlist_text(profile: MoodProfile, source: Playlist | None) -> tuple[str, str]:
    """The new playlist's name and description (within Spotify's 100 and 300 character limits)."""
    label = profile.label or profile.strategy
    feeling = ADJECTIVES[profile.emotion]
    name = f"EmoTune: {label} for feeling {feeling}"
    description = (
        f"Made by EmoTune from tracks Spotify search finds for '{label}' "
        f"({profile.strategy} strategy, {feeling} mood)."
    )
    if source is not None:
        description += f" Inspired by the playlist {source.name}."
    return name[:100], description[:300]


def collect_track_uris(client: UserClient, profile: MoodProfile, limit: int = MAX_TRACKS) -> list[str]:
    """Tracks for the profile's search terms, in order, without repeats, at most ``limit``."""
    uris: list[str] = []
    for term in profile.search_terms:
        uris += [u for u in client.search_track_uris(term) if u not in uris]
        if len(uris) >= limit:
            break
    return uris[:limit]


def save_to_account(
    session: Session, settings: SpotifySettings, tokens: CacheHandler, emotion: str, strategy: str,
    source_playlist_id: str | None = None,
) -> dict[str, Any]:
    """Create the playlist in the account whose tokens ``tokens`` holds; returns id, name, url, tracks_added.

    Raises ``UnknownEmotion``/``UnknownStrategy`` for bad input, ``NoMoodProfile`` when the catalogue
    is not seeded, and the Spotify errors of ``recommender.errors``.
    """
    profile = MoodProfile.lookup(session, check_emotion(emotion), check_strategy(strategy))
    source = None
    if source_playlist_id:
        source = session.scalar(select(Playlist).where(Playlist.spotify_id == source_playlist_id))
    name, description = playlist_text(profile, source)
    client = UserClient(settings, pkce_manager(settings, tokens))
    return client.create_playlist(name, description, collect_track_uris(client, profile))
