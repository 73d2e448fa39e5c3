"""Data is never markup or terminal control: the sanitiser, and a scan of every screen for ways
around it (a bare Static or Label, a notice asking for markup)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.literal import literal

ROOT = Path(__file__).resolve().parents[2]
# Static with markup on purpose, and only text the code itself wrote (key names, descriptions).
MARKUP_ALLOWED = {("tui/screens/help.py", "Static")}


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Team [/] EMEA", "Team [/] EMEA"),
        ("[link=https://e.x]y[/link]", "[link=https://e.x]y[/link]"),
        ("red\x1b[31m", "red␛[31m"),
        ("title\x1b]0;pwned\x07", "title␛]0;pwned␇"),
        ("csi\x9b2J", "csi\\x9b2J"),
        ("back\x08space\x7f", "back␈space␡"),
        ("cr\rover", "cr␍over"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("two\nlines\tok", "two\nlines\tok"),
        ("", ""),
        ("大阪 ✓", "大阪 ✓"),
    ],
)
def test_literal_shows_control_characters_visibly(raw, shown):
    assert literal(raw) == shown


def test_single_line_turns_line_breaks_into_spaces():
    assert literal("a\nb\tc\rd\x1b", single_line=True) == "a b c d␛"


@given(st.text())
def test_literal_leaves_no_control_character(text):
    for single_line in (False, True):
        out = literal(text, single_line=single_line)
        allowed = "" if single_line else "\n\t"
        assert all(c in allowed or not (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F) for c in out)
        assert not any("\u202a" <= c <= "\u202e" or "\u2066" <= c <= "\u2069" for c in out)
    if text.isprintable():
        assert literal(text) == text  # ordinary text is untouched


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            yield node


def test_no_screen_builds_a_bare_static_label_or_input():
    """Labels and inputs with data are LiteralStatic / LiteralLabel / LiteralBar / LiteralInput
    (tui/widgets/literal.py)."""
    found = []
    for path in sorted((ROOT / "tui").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "tui/widgets/literal.py":
            continue
        for call in _calls(path):
            name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
            if name in ("Static", "Label", "Input") and (rel, name) not in MARKUP_ALLOWED:
                found.append(f"{rel}:{call.lineno} {name}(...)")
    assert not found, "use tui.widgets.literal instead: " + ", ".join(found)


def test_no_notice_asks_for_markup():
    """TeledeckApp.notify turns markup off anyway; no call should pretend otherwise."""
    found = []
    for path in sorted((ROOT / "tui").rglob("*.py")):
        for call in _calls(path):
            if getattr(call.func, "attr", "") != "notify":
                continue
            for keyword in call.keywords:
                if keyword.arg == "markup" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False
                ):
                    found.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not found


def test_every_notice_goes_through_the_app():
    """Widgets' notify calls the app's, so TeledeckApp.notify is the one place (Textual's contract)."""
    from textual.widget import Widget

    from tui.app import TeledeckApp

    source = inspect.getsource(Widget.notify)
    assert "self.app.notify(" in source
    assert "notify" in TeledeckApp.__dict__


@given(st.text())
def test_the_editable_form_keeps_every_position(text):
    from tui.literal import literal_same_length

    shown = literal_same_length(text)
    assert len(shown) == len(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or "\u202a" <= c <= "\u202e" for c in shown)
