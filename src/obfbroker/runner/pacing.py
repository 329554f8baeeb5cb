"""When a bot tries to join again: a capped exponential schedule with jitter. Pure, no I/O.

Each refused attempt burns a single-use OBF token and may notify the host that someone is
waiting, so a bot whose authorizing user is late must not knock every few seconds for twenty
minutes. The waits double from ``initial`` (3 s, 6 s, 12 s, 24 s with the defaults, each within
±10%) until doubling would pass ``steady_min``; from then on each wait is drawn uniformly between
``steady_min`` and ``steady_max`` (40-60 s by default), so a 20-minute wait costs at most 33
attempts (see :func:`worst_case_attempts`), under the default token cap of 35.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from obfbroker.settings import Settings

JITTER = 0.1
# The defaults are Settings' (OBFBROKER_JOIN_RETRY_*), written there only.
_DEFAULTS = Settings.model_fields
INITIAL_SECONDS = _DEFAULTS["join_retry_initial_seconds"].default
STEADY_MIN_SECONDS = _DEFAULTS["join_retry_steady_min_seconds"].default
STEADY_MAX_SECONDS = _DEFAULTS["join_retry_steady_max_seconds"].default


@dataclass(frozen=True)
class Pacing:
    initial: float = INITIAL_SECONDS
    steady_min: float = STEADY_MIN_SECONDS
    steady_max: float = STEADY_MAX_SECONDS

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.steady_min <= self.steady_max:
            raise ValueError("pacing needs 0 < initial <= steady_min <= steady_max")

    def delay(self, refused: int, draw: Callable[[], float] = random.random) -> float:
        """Seconds to wait after the ``refused``-th refused round (1 for the first); ``draw``
        returns a number in [0, 1) (a seeded generator in tests)."""
        if refused < 1:
            raise ValueError("refused counts from 1")
        doublings = min(refused - 1, 60)
        base = self.initial * 2 ** doublings
        if base * (1 + JITTER) < self.steady_min:
            return base * (1 - JITTER + 2 * JITTER * draw())
        return self.steady_min + (self.steady_max - self.steady_min) * draw()

    def worst_case_attempts(self, seconds: float) -> int:
        """The most attempts a wait of ``seconds`` can take: every jitter at its shortest."""
        attempts, elapsed, refused = 1, 0.0, 1
        while True:
            base = self.initial * 2 ** min(refused - 1, 60)
            shortest = base * (1 - JITTER) if base * (1 + JITTER) < self.steady_min else self.steady_min
            if elapsed + shortest > seconds:
                return attempts
            elapsed += shortest
            attempts += 1
            refused += 1
            if refused > 10_000:
                return attempts + math.floor((seconds - elapsed) / self.steady_min)
