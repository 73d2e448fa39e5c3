"""Data is shown literally: never as markup, never as terminal control.

Record names, server messages, profile names and whatever a user typed reach notices, labels
and table cells. Shown as Rich/Textual markup, a billing group named ``Team [/] EMEA`` raises
MarkupError (after the create was sent) and ``[link=...]`` forges a link; written raw, an ESC
sequence from a server recolours, moves or retitles the user's terminal. So:

- `literal(text)` is the one sanitiser: C0 controls (but newline and tab) become their Unicode
  control pictures (ESC shows as ``␛``, so ``\\x1b[31m`` reads ``␛[31m``), DEL as ``␡``, C1
  controls and the bidirectional overrides as ``\\x9b`` / ``\\u202e`` escapes. Brackets are
  left alone: nothing downstream reads markup.
- `TeledeckApp.notify` passes every notice (message and title) through it with markup off;
  `LiteralStatic` / `LiteralLabel` (tui/widgets/literal.py) do the same for every label, and the
  virtual table for every cell.

tests/tui/test_hostile_names.py drives a hostile name through the app; tests/unit/test_literal.py
checks that no screen builds a plain Static or Label, or turns markup on in a notice.
"""

from __future__ import annotations

import re

# C0 but tab and newline, DEL, C1, and the bidi embeddings / overrides / isolates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Single-line places (table cells, title bars): tab, newline and carriage return become spaces.
_UNSAFE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code in (0x09, 0x0A, 0x0D) and match.re is _UNSAFE_LINE:
        return " "  # a line break or tab in one line: a space
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟ (␛ for ESC, ␍ for a carriage return)
    if code == 0x7F:
        return "␡"
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def literal(value: object, *, single_line: bool = False) -> str:
    """`value` as text that is safe to put on the terminal: control characters shown visibly.

    `single_line`: tab, newline and carriage return become spaces (a table cell or a title bar
    stays one line)."""
    text = value if isinstance(value, str) else str(value)
    pattern = _UNSAFE_LINE if single_line else _UNSAFE
    if text.isprintable():  # no control, format or separator character at all: the common case
        return text
    return pattern.sub(_shown, text)


def _one_for_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    return "␡" if code == 0x7F else "\ufffd"


def literal_same_length(value: str) -> str:
    """`value` with each unsafe character (tab and newline too) replaced by one visible character
    (a control picture, ␡, or U+FFFD for C1 and bidi controls), so positions in it still hold:
    for an editable field, whose cursor counts characters of the real value."""
    return value if value.isprintable() else _UNSAFE_LINE.sub(_one_for_one, value)
