"""Copy to the user's clipboard over SSH with OSC 52.

Textual's copy_to_clipboard writes a bare OSC 52 sequence, which tmux and screen swallow unless
it is wrapped for passthrough, so we wrap it ourselves when running inside one of them.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any

from textual.app import App

# k9s caps the payload at about this many encoded bytes; terminals drop larger ones.
MAX_ENCODED = 74_994


def osc52_sequence(text: str, env: Mapping[str, str] | None = None) -> str:
    if env is None:
        env = os.environ
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    if len(encoded) > MAX_ENCODED:
        raise ValueError(f"too large to copy ({len(encoded)} encoded bytes; the limit is {MAX_ENCODED})")
    sequence = f"\x1b]52;c;{encoded}\a"
    if env.get("TMUX"):
        return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    if env.get("STY"):
        return "\x1bP" + sequence + "\x1b\\"
    return sequence


def copy_text(app: App[Any], text: str) -> None:
    """Put `text` on the clipboard (OSC 52) and in the app's own paste buffer.

    Raises ValueError when the text is too large for terminals to accept.
    """
    sequence = osc52_sequence(text)
    app.copy_to_clipboard(text)  # keeps App.clipboard in step; writes the bare sequence
    wrapped = not sequence.startswith("\x1b]52;")
    driver = getattr(app, "_driver", None)
    if wrapped and driver is not None:
        driver.write(sequence)  # tmux/screen need the passthrough form to forward it
