"""Blend a playlist's profile score with people's votes.

Each playlist's score acts as a prior worth ``PRIOR_WEIGHT`` votes. Recommendations explore: each
visit ranks by a draw from the Beta posterior (Thompson sampling), so a returning person sees a
different mix and newer playlists get a chance to prove themselves. Without exploration the order
is the Bayesian average ``(m*s + ups) / (m + ups + downs)``, until the pair has
``THOMPSON_MIN_VOTES`` votes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PRIOR_WEIGHT = 4.0
THOMPSON_MIN_VOTES = 30


@dataclass(frozen=True)
class Votes:
    """Thumbs up and down for one playlist under one emotion-strategy pair."""

    up: int = 0
    down: int = 0

    @property
    def total(self) -> int:
        return self.up + self.down


def bayesian_average(prior: float, votes: Votes, weight: float = PRIOR_WEIGHT) -> float:
    """Posterior mean of a playlist's appeal, shrunk toward its profile score ``prior``."""
    prior = min(1.0, max(0.0, prior))
    return (weight * prior + votes.up) / (weight + votes.total)


def thompson_draw(prior: float, votes: Votes, rng: random.Random, weight: float = PRIOR_WEIGHT) -> float:
    """One draw from Beta(m*s + ups, m*(1-s) + downs); small epsilons keep both shapes positive."""
    prior = min(1.0, max(0.0, prior))
    alpha = weight * prior + votes.up + 1e-3
    beta = weight * (1.0 - prior) + votes.down + 1e-3
    return rng.betavariate(alpha, beta)


def rank_value(
    prior: float, votes: Votes, pair_votes: int, rng: random.Random | None = None, explore: bool = False
) -> float:
    """The value to sort by: a Thompson draw when exploring or once the pair has enough votes,
    else the Bayesian average."""
    if explore or pair_votes >= THOMPSON_MIN_VOTES:
        return thompson_draw(prior, votes, rng or random.Random())
    return bayesian_average(prior, votes)
