"""Catalogue commands: ``flask seed-playlists``, ``flask refresh-playlists`` and ``flask mood-profile``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from recognizer.emotions import EMOTIONS
from recommender.errors import NoMoodProfile, RateLimited, SpotifyError
from recommender.models import MoodProfile
from recommender.oembed import OEmbedClient
from recommender.refresh import PAGES_PER_TERM, profiles, refresh_catalogue, spotify_configured
from recommender.seed import seed_catalogue, seed_profiles
from recommender.spotify_client import CatalogueClient, SpotifySettings
from recommender.strategies import STRATEGIES

EMOTION = click.Choice(EMOTIONS)
STRATEGY = click.Choice(STRATEGIES)


def _db():  # type: ignore[no-untyped-def]
    from emotune.extensions import db

    return db


@click.command("seed-playlists")
@with_appcontext
def seed_playlists() -> None:
    """Load the curated playlists and mood profiles (idempotent: existing rows are kept)."""
    report = seed_catalogue(_db().session)
    click.echo(
        f"Seeded catalogue: {report.playlists} playlists, {report.links} emotion links and "
        f"{report.profiles} mood profiles added."
    )


@click.command("refresh-playlists")
@click.option("--emotion", type=EMOTION, help="Refresh only this emotion's profiles.")
@click.option("--strategy", type=STRATEGY, help="Refresh only this strategy's profiles.")
@click.option("--pages", type=click.IntRange(1, 5), default=PAGES_PER_TERM, show_default=True,
              help="Search pages (10 playlists each) per search term.")
@with_appcontext
def refresh_playlists(emotion: str | None, strategy: str | None, pages: int) -> None:
    """Verify every playlist through oEmbed (no credentials), then search Spotify (client credentials).

    Playlists Spotify says are gone are retired and counted; QUOTA_EXCEEDED stops the whole refresh
    and says when the next scheduled run is (exit status 1).
    """
    settings = SpotifySettings.from_config(current_app.config)
    searching, message = spotify_configured(current_app.config)
    click.echo(message)
    session = _db().session
    if session.scalar(select(MoodProfile).limit(1)) is None:
        seed_catalogue(session)  # profiles drive the search; a fresh database has none yet
    try:
        client = CatalogueClient(settings) if searching else None
        oembed = OEmbedClient(settings.oembed_base, settings.timeout_s)
        report = refresh_catalogue(session, client, emotion=emotion, strategy=strategy, pages=pages,
                                   oembed=oembed)
    except RateLimited as exc:
        raise click.ClickException(
            f"Spotify is rate limiting us: try again in {exc.retry_after:.0f} s. Profiles finished "
            "before the limit are saved."
        ) from None
    except SpotifyError as exc:
        raise click.ClickException(f"{exc.message} The catalogue keeps what it had.") from None
    if report.stopped:
        raise click.ClickException(f"Refresh stopped: {report.summary()}")
    click.echo(f"Refreshed catalogue: {report.summary()}")


@click.group("mood-profile")
def mood_profile() -> None:
    """Show or edit the mood profiles (search terms, wanted and unwanted words)."""


def _load(emotion: str, strategy: str) -> MoodProfile:
    try:
        return MoodProfile.lookup(_db().session, emotion, strategy)
    except NoMoodProfile as exc:
        raise click.ClickException(str(exc)) from None


def _show(profile: MoodProfile) -> None:
    click.echo(f"{profile.emotion}/{profile.strategy}: {profile.label}")
    click.echo(f"  search terms:   {', '.join(profile.search_terms)}")
    click.echo(f"  wanted words:   {', '.join(profile.wanted_words)}")
    click.echo(f"  unwanted words: {', '.join(profile.unwanted_words)}")


def _words(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [w.strip().lower() for w in value.split(",") if w.strip()]


@mood_profile.command("show")
@click.argument("emotion", type=EMOTION, required=False)
@click.argument("strategy", type=STRATEGY, required=False)
@with_appcontext
def show_profiles(emotion: str | None, strategy: str | None) -> None:
    """Print profiles, all or those of one emotion/strategy."""
    found = profiles(_db().session, emotion, strategy)
    if not found:
        raise click.ClickException("No mood profiles yet: run `flask seed-playlists` first.")
    for profile in found:
        _show(profile)


@mood_profile.command("set")
@click.argument("emotion", type=EMOTION)
@click.argument("strategy", type=STRATEGY)
@click.option("--label", help="Short name used in reasons, e.g. 'calm acoustic'.")
@click.option("--search-terms", help="Comma-separated Spotify search terms.")
@click.option("--wanted", help="Comma-separated words that raise a playlist's score.")
@click.option("--unwanted", help="Comma-separated words that drop a playlist.")
@with_appcontext
def set_profile(emotion: str, strategy: str, label: str | None, search_terms: str | None,
                wanted: str | None, unwanted: str | None) -> None:
    """Replace parts of one profile; the next refresh searches with it."""
    profile = _load(emotion, strategy)
    if label is not None:
        profile.label = label.strip()
    for field, value in (("search_terms", _words(search_terms)), ("wanted_words", _words(wanted)),
                         ("unwanted_words", _words(unwanted))):
        if value is not None:
            if field != "unwanted_words" and not value:
                raise click.ClickException(f"{field.replace('_', ' ')} cannot be empty.")
            setattr(profile, field, value)
    _db().session.commit()
    _show(profile)


@mood_profile.command("reset")
@with_appcontext
def reset_profiles() -> None:
    """Overwrite every profile with the committed recommender/data/profiles.json."""
    session = _db().session
    written = seed_profiles(session, reset=True)
    session.commit()
    click.echo(f"Reset {written} mood profiles from the data file.")


COMMANDS: list[click.Command] = [seed_playlists, refresh_playlists, mood_profile]
