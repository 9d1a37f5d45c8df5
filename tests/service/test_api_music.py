"""The music through the API: six cards with their own reasons, who chose the strategy, the page's
default equal to the API's, repeat visits that vary, and votes that cannot be stuffed."""

from __future__ import annotations

import re

from flask import Flask

from emotune.extensions import db
from recommender.strategies import default_strategy
from tests.service.test_api_analyses import done_analysis, post_photo

CARD_FIELDS = {"spotify_id", "name", "owner", "cover_url", "track_count", "reason", "liked_by", "my_vote",
               "embed_url", "url"}


def csrf(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]}


def test_a_selfie_gets_six_cards_with_different_truthful_reasons(model_app: Flask, face_jpeg: bytes) -> None:
    client = model_app.test_client()
    body = client.get(done_analysis(model_app, client, face_jpeg)).get_json()
    emotion = body["primary_emotion"]
    cards = body["recommendations"]["playlists"]
    assert len(cards) == 6 and len({c["spotify_id"] for c in cards}) == 6
    assert all(CARD_FIELDS <= set(card) for card in cards)
    assert len({c["reason"] for c in cards}) == 6  # pairwise different
    # Nobody chose a strategy: the API's default, and every reason says "we chose".
    choice = body["strategy_choice"]
    assert choice["chosen_by"] == "us" and choice["strategy"] == default_strategy(emotion) == body["strategy"]
    assert choice["why"].endswith(".")
    assert all("we chose" in c["reason"] and "you asked" not in c["reason"] for c in cards)
    assert all(c["liked_by"] == 0 and c["my_vote"] is None for c in cards)


def test_a_chosen_strategy_says_you_asked(model_app: Flask, face_jpeg: bytes) -> None:
    client = model_app.test_client()
    url = post_photo(client, face_jpeg, strategy="calm").get_json()["url"]
    from tests.service.test_tasks import run_task

    assert run_task(model_app, url.rsplit("/", 1)[1], face_jpeg) == "done"
    body = client.get(url).get_json()
    assert body["strategy_choice"]["chosen_by"] == "you" and body["strategy_choice"]["strategy"] == "calm"
    assert all("because you asked to calm down" in c["reason"] for c in body["recommendations"]["playlists"])
    rerank = client.get(f"{url}/recommendations?strategy=lift").get_json()
    assert rerank["strategy_choice"] == {"strategy": "lift", "chosen_by": "you",
                                         "why": rerank["strategy_choice"]["why"]}
    assert all("you asked to lift your mood" in c["reason"] for c in rerank["playlists"])


def test_the_page_preselects_nothing_so_it_gets_the_apis_default(model_app: Flask) -> None:
    client = model_app.test_client()
    html = client.get("/").get_data(as_text=True)
    radios = re.findall(r'<input type="radio" name="strategy"[^>]*>', html)
    assert len(radios) == 3 and not any("checked" in radio for radio in radios)
    assert 'id="strategy-why"' in html  # where the page says which strategy was picked and why
    src = re.search(r'<script type="module" src="([^"]+app\.js)"', html).group(1)
    script = client.get(src).get_data(as_text=True)
    # The upload sends only a strategy the person picked; nothing falls back to "match".
    assert "createAnalysis(state.photo.blob, state.photo.name, state.pickedStrategy)" in script
    assert ': "match"' not in script


def test_repeat_visits_see_a_different_mix(model_app: Flask, face_jpeg: bytes) -> None:
    client = model_app.test_client()
    url = done_analysis(model_app, client, face_jpeg)
    visits = [tuple(c["spotify_id"] for c in client.get(f"{url}/recommendations").get_json()["playlists"])
              for _ in range(12)]
    assert all(len(set(v)) == 6 for v in visits)
    assert not any(visits[i] == visits[i + 1] == visits[i + 2] for i in range(len(visits) - 2))
    assert len(set(visits)) > 6


def test_votes_belong_to_the_analysis_session_and_are_not_repeatable(model_app: Flask, face_jpeg: bytes) -> None:
    from recommender.models import Feedback

    owner = model_app.test_client()
    url = done_analysis(model_app, owner, face_jpeg)
    body = owner.get(url).get_json()
    playlist = body["recommendations"]["playlists"][0]["spotify_id"]
    # Another browser session cannot vote on this analysis: same 404 as an unknown id.
    stranger = model_app.test_client()
    for _ in range(50):
        refused = stranger.post(f"{url}/feedback", json={"playlist_id": playlist, "vote": "down"},
                                headers=csrf(stranger))
        assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "analysis_not_found"
    # The owner's 50 down-votes are one vote; a change is allowed and replaces it.
    headers = csrf(owner)
    first = owner.post(f"{url}/feedback", json={"playlist_id": playlist, "vote": "down"}, headers=headers)
    assert first.status_code == 201 and first.get_json()["my_vote"] == -1
    for _ in range(49):
        again = owner.post(f"{url}/feedback", json={"playlist_id": playlist, "vote": "down"}, headers=headers)
        assert again.status_code == 200 and again.get_json()["changed"] is True
    changed = owner.post(f"{url}/feedback", json={"playlist_id": playlist, "vote": "up"}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["liked_by"] == 1
    with model_app.app_context():
        assert db.session.query(Feedback).count() == 1
    card = next(c for c in owner.get(url).get_json()["recommendations"]["playlists"] if c["spotify_id"] == playlist)
    assert (card["liked_by"], card["my_vote"]) == (1, 1)
    # A second session's own analysis sees the like counted once, and no vote of its own.
    other_url = done_analysis(model_app, stranger, face_jpeg)
    other = stranger.get(other_url).get_json()
    if other["recommendations"]["strategy"] == body["recommendations"]["strategy"]:
        cards = {c["spotify_id"]: c for c in other["recommendations"]["playlists"]}
        if playlist in cards:
            assert (cards[playlist]["liked_by"], cards[playlist]["my_vote"]) == (1, None)
