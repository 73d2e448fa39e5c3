"""Static and Label that show their content literally (tui/literal.py): markup off, control
characters shown visibly. Every screen uses these, never a bare Static or Label, for anything
that may carry data (tests/unit/test_literal.py checks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.widgets import Input, Label, Static

from tui.literal import literal, literal_same_length


def _safe(content: Any, single_line: bool) -> Any:
    # Rich Text / Content built by the caller keep their styles; their builders sanitise the data.
    return literal(content, single_line=single_line) if isinstance(content, str) else content


class LiteralStatic(Static):
    """A Static whose string content is data: shown as typed, never parsed as markup."""

    SINGLE_LINE = False

    def __init__(self, content: Any = "", **options: Any) -> None:
        options["markup"] = False
        super().__init__(_safe(content, self.SINGLE_LINE), **options)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(_safe(content, self.SINGLE_LINE), layout=layout)


class LiteralBar(LiteralStatic):
    """A one-line bar (title and section bars): newlines in data are shown, not followed."""

    SINGLE_LINE = True


class LiteralLabel(Label):
    """A Label whose string content is data (field labels and their error messages)."""

    def __init__(self, content: Any = "", **options: Any) -> None:
        options["markup"] = False
        super().__init__(_safe(content, False), **options)

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(_safe(content, False), layout=layout)


class LiteralInput(Input):
    """An Input whose value (an edited record's name, a pasted string) is drawn with its control
    characters visible, one for one, so the cursor still lines up; the value itself is unchanged."""

    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        text = Text(literal_same_length(self.value), no_wrap=True, overflow="ignore", end="")
        return self.highlighter(text) if self.highlighter is not None else text


class FilterInput(LiteralInput):
    """A list's filter box: each edit reaches `on_edit` at once, inside the key's own handling,
    so the keystroke and the rows it filters are painted in one frame. Through `Input.Changed`
    the edit arrived a few messages later, after the box had been repainted, and the rows
    waited for the next frame (up to 1/60 s more, and a second render of the screen)."""

    def __init__(self, *, on_edit: Callable[[str], None], **options: Any) -> None:
        super().__init__(**options)
        self._on_edit = on_edit

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        self._on_edit(value)
