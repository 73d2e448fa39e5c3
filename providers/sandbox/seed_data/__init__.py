"""The emulators' seed fiction, kept as data (JSON beside this module) rather than as code.

Each file holds the hand-written part of one emulator's first-start state: names, addresses,
labels. What can be generated (ids, timestamps, IP addresses) is generated from a fixed seed by
the emulator's seed module, so a reset always gives the same state."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    """The seed file `<name>.json` of this package (read once; callers copy what they change)."""
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
