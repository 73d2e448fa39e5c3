"""Request-rate limits as the vendors apply them, keyed by who is calling (API key, app, AccessKeyId).

Two shapes occur:

- `FixedWindow` (Telnyx per API key, Huawei per app): a window opens at a key's first request and
  admits `limit` requests until it is `seconds` old; the next request after that opens a new one.
  It reports what the x-ratelimit-* headers need (remaining, seconds to the reset).
- `SlidingWindow` (Alibaba per AccessKeyId): at most `limit` admitted requests in any `seconds`
  long span; a refused request does not count.

A limit of 0 or less turns limiting off. The caller passes the clock reading, so each emulator
keeps its own notion of time (its injected clock, or a monotonic one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Admission:
    """One limiter decision. `remaining` and `reset_seconds` describe the key's current window."""

    admitted: bool
    remaining: int = 0
    reset_seconds: int = 0


class FixedWindow:
    """`limit` requests per key per window of `seconds`, the window opening at its first request."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = int(limit)
        self.seconds = float(seconds)
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, requests admitted)

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def admit(self, key: str, now: float) -> Admission:
        start, count = self._windows.get(key, (now, 0))
        if now >= start + self.seconds or now < start:  # expired, or the clock went back
            start, count = now, 0
        reset = max(1, math.ceil(start + self.seconds - now))
        if count >= self.limit:
            self._windows[key] = (start, count)
            return Admission(False, 0, reset)
        self._windows[key] = (start, count + 1)
        return Admission(True, self.limit - count - 1, reset)

    def clear(self) -> None:
        self._windows.clear()


class SlidingWindow:
    """At most `limit` admitted requests per key in any span of `seconds`; refusals don't count."""

    def __init__(self, limit: int, seconds: float = 1.0) -> None:
        self.limit = int(limit)
        self.seconds = float(seconds)
        self._recent: dict[str, list[float]] = {}

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def admit(self, key: str, now: float) -> bool:
        recent = [t for t in self._recent.get(key, []) if now - self.seconds < t <= now]
        admitted = len(recent) < self.limit
        if admitted:
            recent.append(now)
        self._recent[key] = recent
        return admitted

    def clear(self) -> None:
        self._recent.clear()


__all__ = ["Admission", "FixedWindow", "SlidingWindow"]
