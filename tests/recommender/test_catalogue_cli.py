"""`flask seed-playlists`, `flask refresh-playlists` and `flask mood-profile` on the real app."""

from __future__ import annotations

from tests.spotify_stub import Scripted, SpotifyStub
from sqlalchemy import select

from recognizer.emotions import EMOTIONS
from recommender.models import MoodProfile, Playlist, PlaylistLink
from recommender.service import recommend
from recommender.strategies import STRATEGIES


def test_refresh_playlists_fills_all_emotions_and_strategies(make_app, stub: SpotifyStub) -> None:
    from emotune.extensions import db

    app = make_app(**stub.config())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-playlists"])
    assert result.exit_code == 0, result.output
    assert "71 playlists" in result.output and "21 mood profiles" in result.output
    result = runner.invoke(args=["refresh-playlists", "--pages", "1"])
    assert result.exit_code == 0, result.output
    assert "21 profiles searched" in result.output and "71 playlists verified through oEmbed" in result.output
    with app.app_context():
        pairs = set(db.session.execute(
            select(PlaylistLink.emotion, PlaylistLink.strategy).join(PlaylistLink.playlist)
            .where(Playlist.source == "search")
        ).all())
        assert pairs == {(e, s) for e in EMOTIONS for s in STRATEGIES}
    assert stub.removed_calls == []


def test_refresh_only_one_emotion_and_strategy(make_app, stub: SpotifyStub) -> None:
    app = make_app(**stub.config())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["refresh-playlists", "--emotion", "Sad", "--strategy", "lift", "--pages", "1"])
    assert result.exit_code == 0, result.output
    assert "1 profiles searched" in result.output  # profiles were seeded on the fly
    queries = {r.query["q"][0] for r in stub.requests if r.path == "/v1/search"}
    assert queries == {"uplifting songs", "mood booster"}


def test_refresh_without_credentials_verifies_through_oembed_and_still_recommends(make_app, stub: SpotifyStub) -> None:
    from emotune.extensions import db

    app = make_app(SPOTIFY_OEMBED_BASE=stub.url)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-playlists"]).exit_code == 0
    result = runner.invoke(args=["refresh-playlists"])
    assert result.exit_code == 0, result.output
    assert "SPOTIFY_CLIENT_ID" in result.output and "seeded" in result.output
    assert "71 playlists verified through oEmbed" in result.output and "search skipped" in result.output
    assert "/v1/search" not in stub.paths() and "/api/token" not in stub.paths()
    with app.app_context():
        for emotion in EMOTIONS:
            assert len(recommend(db.session, emotion, None, limit=3)) == 3


def test_refresh_rate_limited_reports_plainly(make_app, stub: SpotifyStub) -> None:
    app = make_app(**stub.config())
    stub.script("/v1/search", Scripted.rate_limited(120))
    result = app.test_cli_runner().invoke(args=["refresh-playlists", "--emotion", "Fear"])
    assert result.exit_code == 1 and "try again in 120 s" in result.output


def test_mood_profile_edit_show_and_reset(make_app) -> None:
    from emotune.extensions import db

    app = make_app()
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-playlists"])
    result = runner.invoke(args=["mood-profile", "set", "Angry", "calm", "--label", "quiet strings",
                                 "--search-terms", "string quartet, slow cello", "--unwanted", "drum"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        profile = db.session.scalar(select(MoodProfile).filter_by(emotion="Angry", strategy="calm"))
        assert profile.search_terms == ["string quartet", "slow cello"] and profile.unwanted_words == ["drum"]
        from recommender.saving import playlist_text

        assert playlist_text(profile, None)[0] == "EmoTune: quiet strings for feeling angry"
    shown = runner.invoke(args=["mood-profile", "show", "Angry", "calm"])
    assert "string quartet, slow cello" in shown.output
    bad = runner.invoke(args=["mood-profile", "set", "Angry", "calm", "--search-terms", " , "])
    assert bad.exit_code == 1 and "cannot be empty" in bad.output
    assert runner.invoke(args=["mood-profile", "set", "Bored", "calm"]).exit_code == 2
    assert runner.invoke(args=["mood-profile", "reset"]).exit_code == 0
    with app.app_context():
        profile = db.session.scalar(select(MoodProfile).filter_by(emotion="Angry", strategy="calm"))
        assert profile.label == "calm acoustic"
