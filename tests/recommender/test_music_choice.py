"""recommender.choice: one decision of which music an analysis gets, whatever asks for it."""

import pytest

from recommender.choice import DEFAULT_WHY, MusicChoice, MusicSource, choose_music
from recommender.strategies import UnknownStrategy, default_strategy


def test_without_a_wish_the_emotions_default_is_chosen_by_us() -> None:
    choice = choose_music(MusicSource.of_photo("Sad", 1), None)
    assert (choice.emotion, choice.follows, choice.face) == ("Sad", "face", None)
    assert (choice.strategy, choice.chosen_by, choice.why) == (default_strategy("Sad"), "us", DEFAULT_WHY["Sad"])


def test_a_wish_is_chosen_by_you_and_says_so() -> None:
    choice = choose_music(MusicSource.of_photo("Happy", 3), "calm")
    assert (choice.follows, choice.strategy, choice.chosen_by) == ("group", "calm", "you")
    assert choice.why.startswith("You asked to calm down")


def test_a_picked_face_is_named_in_the_choice() -> None:
    choice = choose_music(MusicSource.of_face("Fear", 2), None)
    assert (choice.emotion, choice.follows, choice.face, choice.strategy) == ("Fear", "face", 2, "calm")


def test_the_stored_shape_gives_the_same_choice_back() -> None:
    choice = choose_music(MusicSource.of_photo("Angry", 2), "lift")
    assert MusicChoice.from_json(choice.to_json()) == choice
    assert set(choice.to_json()) == {"emotion", "follows", "face", "strategy", "chosen_by", "why"}


def test_unknown_names_are_refused() -> None:
    with pytest.raises(UnknownStrategy, match="choose one of match, lift, calm"):
        choose_music(MusicSource.of_photo("Sad", 1), "shout")
    with pytest.raises(ValueError):
        MusicSource.of_photo("Bored", 1)
