"""Which music an analysis gets, decided once: the reading it follows, the strategy, who chose it, why.

The worker makes a :class:`MusicChoice` when an analysis finishes and stores it with the result;
re-ranking (another strategy, or one face instead of the group) makes a new one through the same
:func:`choose_music`. What the music follows is given explicitly as a :class:`MusicSource`, so a
new source (a face the person picked, an emotion the person corrected) is one more constructor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

from recommender.strategies import ASKED, DESCRIPTIONS, check_emotion, check_strategy, default_strategy

# Why each emotion gets its default strategy, in words for the page.
DEFAULT_WHY: Final[dict[str, str]] = {
    "Angry": "Anger is eased rather than mirrored, so we chose music to calm down.",
    "Disgust": "A sour mood is lifted rather than mirrored, so we chose music to lift it.",
    "Fear": "Fear is eased rather than mirrored, so we chose music to calm down.",
    "Happy": "A happy mood is worth keeping, so we chose music that matches it.",
    "Neutral": "An even mood is met as it is, so we chose music that matches it.",
    "Sad": "A low mood is lifted rather than mirrored, so we chose music to lift it.",
    "Surprise": "Surprise is met with its own energy, so we chose music that matches it.",
}


@dataclass(frozen=True)
class MusicSource:
    """What the music follows: the group's reading (two or more faces), one face's, or the emotion the
    person said they feel ("said", when the reading was not it).

    ``face`` is the index of the face (0 is the largest) when one face was picked to drive the
    music; None when the music follows the group, the photo's only face or what the person said.
    """

    emotion: str
    follows: str
    face: int | None = None

    @classmethod
    def of_photo(cls, emotion: str, faces_read: int) -> MusicSource:
        """What a finished analysis follows by default: the group with two or more faces, else its face."""
        return cls(check_emotion(emotion), "group" if faces_read > 1 else "face")

    @classmethod
    def of_face(cls, emotion: str, index: int) -> MusicSource:
        """One face, picked by its index, drives the music instead of the group."""
        return cls(check_emotion(emotion), "face", index)

    @classmethod
    def of_said(cls, emotion: str) -> MusicSource:
        """The emotion the person said they feel drives the music instead of the reading."""
        return cls(check_emotion(emotion), "said")


@dataclass(frozen=True)
class MusicChoice:
    """The music decision: the emotion followed (and whose), the strategy, who chose it and why."""

    emotion: str
    follows: str
    face: int | None
    strategy: str
    chosen_by: str
    why: str

    @property
    def asked(self) -> str | None:
        """The strategy the person asked for, or None when it is the emotion's default."""
        return self.strategy if self.chosen_by == "you" else None

    def to_json(self) -> dict[str, Any]:
        """The stored and served shape (``music`` in the API)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MusicChoice:
        """Back from :meth:`to_json`."""
        return cls(**{key: data.get(key) for key in cls.__dataclass_fields__})  # type: ignore[arg-type]


def choose_music(source: MusicSource, asked: str | None) -> MusicChoice:
    """The strategy the person asked for (``asked``), else the emotion's default, with who chose it and why."""
    if asked:
        strategy = check_strategy(asked)
        return MusicChoice(source.emotion, source.follows, source.face, strategy, "you",
                           f"You asked to {ASKED[strategy]}: {DESCRIPTIONS[strategy]}.")
    return MusicChoice(source.emotion, source.follows, source.face, default_strategy(source.emotion), "us",
                       DEFAULT_WHY[source.emotion])
