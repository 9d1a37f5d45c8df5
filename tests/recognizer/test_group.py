"""Tests for recognizer.group: the group's reading of several faces."""

import pytest

from recognizer.emotions import EMOTIONS
from recognizer.group import face_weight, group_reading


def probs(emotion: str, top: float) -> tuple[float, ...]:
    rest = (1 - top) / (len(EMOTIONS) - 1)
    return tuple(top if name == emotion else rest for name in EMOTIONS)


def test_one_face_has_no_group_reading() -> None:
    assert group_reading([]) is None
    assert group_reading([(probs("Happy", 0.9), 200)]) is None


def test_the_majority_wins_and_the_sentence_counts_it() -> None:
    group = group_reading([(probs("Happy", 0.8), 100)] * 3 + [(probs("Sad", 0.8), 100)])
    assert group is not None
    assert (group.emotion, group.faces_read, group.faces_agreeing) == ("Happy", 4, 3)
    assert group.sentence == "3 of 4 faces look happy"
    assert sum(group.probabilities) == pytest.approx(1.0)
    assert group.to_dict()["probabilities"]["Happy"] == max(group.probabilities)


def test_a_sure_face_outweighs_an_unsure_one_and_size_counts_up_to_96_px() -> None:
    group = group_reading([(probs("Sad", 0.95), 100), (probs("Happy", 0.3), 100)])
    assert group is not None and group.emotion == "Sad"
    # Beyond a 96 px frame a face counts no more; smaller faces count in proportion.
    assert face_weight(probs("Sad", 0.9), 400) == face_weight(probs("Sad", 0.9), 200)
    assert face_weight(probs("Sad", 0.9), 41) == pytest.approx(0.9 * (41 / 0.775) / 96)


def test_mixed_faces_say_the_blend_not_zero_agreeing() -> None:
    # Two faces each split between Happy and Surprise, tipping opposite ways: the blend is a tie
    # broken by EMOTIONS order, and neither face's own top need agree with it.
    a = (0.0, 0.0, 0.0, 0.46, 0.0, 0.0, 0.54)
    b = (0.0, 0.0, 0.0, 0.56, 0.0, 0.0, 0.44)
    c = (0.0, 0.0, 0.0, 0.0, 0.52, 0.0, 0.48)
    group = group_reading([(a, 100), (b, 100), (c, 100)])
    assert group is not None
    assert group.sentence.startswith(f"{group.faces_agreeing} of 3") or group.sentence.startswith("Taken together")
