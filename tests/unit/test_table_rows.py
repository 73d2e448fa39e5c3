"""tui/widgets/table_rows.py against plain reference implementations: the sliced sort (chunks,
segmented merges, the cheapest key that gives the order) orders as one stable sorted() over the
documented rule does; merging new rows in equals sorting everything; the filter keeps what a list
comprehension keeps."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.widgets import table_rows
from tui.widgets.table_rows import (
    SEARCH_SEPARATOR,
    FilterError,
    Row,
    RowFilter,
    SortKeys,
    filter_rows,
    insertion_points,
    parse_filter,
    plan_sort,
    rehome_texts,
    run_now,
    sort_rows,
    splice,
)

_RUNS = re.compile(r"(\d+)")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@pytest.fixture(autouse=True)
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny chunks, so a few dozen rows go through many chunks and many merge segments.
    monkeypatch.setattr(table_rows, "CHUNK_ROWS", 4)
    monkeypatch.setattr(table_rows, "SLICE_ROWS", 3)


def reference_key(text: str) -> Any:
    """The documented text order, without any shortcut: numbers by value before text, text
    lower-cased with every digit run compared as a number."""
    try:
        if text.isdigit() and text.isascii():
            return (0, int(text))
        if not text.strip("0123456789+-.eE") and _NUMBER.fullmatch(text):
            return (0, float(text))
    except ValueError:
        pass
    parts = _RUNS.split(text.lower())
    parts[1::2] = [run.zfill(20) for run in parts[1::2]]
    return (1, "".join(parts))


def reference_sort(rows: list[Row], key: Any, reverse: bool) -> list[str]:
    present = [row for row in rows if key(row) is not None]
    empty = [row for row in rows if key(row) is None]
    return [row.key for row in sorted(present, key=key, reverse=reverse) + empty]


def text_key(position: int) -> Any:
    def key(row: Row) -> Any:
        text = row.cells[position] if position < len(row.cells) else ""
        return reference_key(text) if text else None

    return key


# Letters of both cases, digits, the signs between the cases in ASCII, a non-ASCII letter.
CELL = st.text(alphabet="aAbBzZ019.-_[^`é ", max_size=6)
# Columns of one kind, the way real columns are: dates, upper-case ids, numbers, names.
SHAPED = st.one_of(
    st.builds(
        lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}T00:00:00Z",
        st.integers(2020, 2026),
        st.integers(1, 12),
        st.integers(1, 28),
    ),
    st.from_regex(r"[A-Z]{1,3}[0-9]{0,3}", fullmatch=True),
    st.integers(-50, 5000).map(str),
    st.from_regex(r"[a-z]{0,4}[0-9]{0,2}", fullmatch=True),
    st.just(""),
)


@given(cells=st.lists(CELL, max_size=40), reverse=st.booleans())
def test_text_sort_matches_the_reference_on_any_text(cells: list[str], reverse: bool) -> None:
    rows = [Row(f"k{i}", (text,)) for i, text in enumerate(cells)]
    keys = run_now(plan_sort(rows, "c", 0, None))
    got = [row.key for row in run_now(sort_rows(rows, keys, reverse))[0]]
    assert got == reference_sort(rows, text_key(0), reverse)


@given(cells=st.lists(SHAPED, max_size=40), reverse=st.booleans())
def test_text_sort_matches_the_reference_on_shaped_columns(cells: list[str], reverse: bool) -> None:
    rows = [Row(f"k{i}", (text,)) for i, text in enumerate(cells)]
    keys = run_now(plan_sort(rows, "c", 0, None))
    got = [row.key for row in run_now(sort_rows(rows, keys, reverse))[0]]
    assert got == reference_sort(rows, text_key(0), reverse)


@given(
    first=st.lists(st.one_of(CELL, SHAPED), max_size=30),
    later=st.lists(st.one_of(CELL, SHAPED), max_size=10),
    reverse=st.booleans(),
)
def test_putting_newest_rows_in_place_equals_sorting_everything(
    first: list[str], later: list[str], reverse: bool
) -> None:
    rows = [Row(f"k{i}", (text,)) for i, text in enumerate(first)]
    new = [Row(f"n{i}", (text,)) for i, text in enumerate(later)]
    keys = run_now(plan_sort(rows, "c", 0, None))
    ordered, values = run_now(sort_rows(rows, keys, reverse))
    if not keys.admit(new):  # they need other keys: the table plans and sorts again
        assert not keys.admit([])  # and these keys stay refused
        keys = run_now(plan_sort(rows + new, "c", 0, None))
        ordered, values = run_now(sort_rows(rows, keys, reverse))
    points = insertion_points(values, new, keys, reverse)
    merged = splice(ordered, points)
    assert [row.key for row in merged] == reference_sort(rows + new, text_key(0), reverse)
    assert splice(values, points, 2) == [keys.compute(row) for row in merged]


@given(values=st.lists(st.one_of(st.none(), st.integers(-5, 5)), max_size=40), reverse=st.booleans())
def test_typed_values_sort_stably_with_none_last(values: list[int | None], reverse: bool) -> None:
    rows = [Row(f"k{i}", (str(value),), data=value) for i, value in enumerate(values)]
    keys = run_now(plan_sort(rows, "v", 0, lambda row: row.data))
    got = [row.key for row in run_now(sort_rows(rows, keys, reverse))[0]]
    assert got == reference_sort(rows, lambda row: row.data, reverse)
    # The same values given as Row.order, on every row.
    mapped = [Row(row.key, row.cells, order={"v": row.data}) for row in rows]
    keys = run_now(plan_sort(mapped, "v", 0, None))
    assert keys.typed or not mapped
    assert [row.key for row in run_now(sort_rows(mapped, keys, reverse))[0]] == got


def test_typed_values_that_do_not_compare_raise_for_the_caller_to_sort_by_text() -> None:
    rows = [Row(str(i), (str(i),), data=value) for i, value in enumerate([1, "a", 2, "b", 3, 4, 5, 6])]
    keys = run_now(plan_sort(rows, "v", 0, lambda row: row.data))
    with pytest.raises(TypeError):
        run_now(sort_rows(rows, keys, False))
    keys = run_now(plan_sort(rows, "v", 0, lambda row: row.data, text=True))
    assert [row.cells[0] for row in run_now(sort_rows(rows, keys, False))[0]] == [str(i) for i in range(8)]


def test_the_other_direction_sorts_the_keys_made_the_first_time() -> None:
    calls: list[str] = []

    def order(row: Row) -> int:
        calls.append(row.key)
        return int(row.key) % 3

    rows = [Row(str(i), (str(i),)) for i in range(9)]
    keys = SortKeys("v", 0, order)
    ordered, values = run_now(sort_rows(rows, keys, False))
    assert len(calls) == 9
    again, _ = run_now(sort_rows(ordered, keys, True, values))
    assert len(calls) == 9  # no key made again
    # Equal keys still in the order the rows came (not reversed with the rest).
    assert [row.key for row in again] == ["2", "5", "8", "1", "4", "7", "0", "3", "6"]


@given(
    texts=st.lists(st.text(alphabet="abAB1 ", max_size=5), max_size=30),
    needle=st.text(alphabet="ab1", max_size=2),
    invert=st.booleans(),
)
def test_filter_keeps_what_a_comprehension_keeps(texts: list[str], needle: str, invert: bool) -> None:
    rows = [Row(f"k{i}", (text, "X")) for i, text in enumerate(texts)]
    keep = parse_filter(("!" if invert else "") + needle)
    got = run_now(filter_rows(rows, keep))
    if not needle:
        expected = rows
    else:
        expected = [row for row in rows if (needle.lower() in SEARCH_SEPARATOR.join(row.cells).lower()) != invert]
    assert got == expected
    assert [row for row in rows if keep.matches(row)] == expected
    # Through the texts made side by side in memory: the same rows, each with an equal text.
    before = [row.search_text for row in rows]
    texts = run_now(rehome_texts(rows))
    assert texts == before == [row.search_text for row in rows]
    assert all(text is row.search_text for text, row in zip(texts, rows, strict=True))
    assert run_now(filter_rows(rows, keep, texts)) == expected


COLUMNS = [("name", "NAME"), ("status", "STATUS"), ("x", "X (EXT)")]


@given(
    texts=st.lists(st.sampled_from(["ab", "a1", "b", "AB ", "1"]), max_size=40),
    filter_text=st.sampled_from(["", "a", "b", "!b", "ab", "~^a", "!~1$", "name:a", "!name:b"]),
    side_by_side=st.booleans(),
)
def test_a_filter_in_many_slices_is_the_rows_themselves_exactly_when_it_keeps_them_all(
    texts: list[str], filter_text: str, side_by_side: bool
) -> None:
    rows = [Row(f"k{i}", (text, "X")) for i, text in enumerate(texts)]
    keep = parse_filter(filter_text, COLUMNS)
    expected = [row for row in rows if keep.matches(row)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(table_rows, "SLICE_ROWS", 1)  # slices of 1, 2 or 8 rows: kept, dropped, kept again
        got = run_now(filter_rows(rows, keep, run_now(rehome_texts(rows)) if side_by_side else None))
    assert got == expected
    # Every row kept: the very list given (no copy); else a list of its own, the rows untouched.
    assert (got is rows) == (len(expected) == len(rows))
    assert [row.key for row in rows] == [f"k{i}" for i in range(len(texts))]


@given(
    cells=st.lists(st.tuples(*[st.text(alphabet="abAB1 \n", max_size=5)] * 3), max_size=30),
    pattern=st.sampled_from(["a", "^a", "b$", "^$", "a.b", "a|1", "[ab]{2}", "A\\s"]),
    invert=st.booleans(),
)
def test_a_regex_filter_keeps_rows_with_a_cell_it_matches(cells, pattern: str, invert: bool) -> None:
    rows = [Row(f"k{i}", row) for i, row in enumerate(cells)]
    keep = parse_filter(("!" if invert else "") + "~" + pattern, COLUMNS)
    compiled = re.compile(pattern, re.IGNORECASE | re.MULTILINE)
    # Each cell on its own; a cell with a newline in it is two lines to ^ and $.
    expected = [row for row in rows if any(compiled.search(cell) for cell in row.cells) != invert]
    assert run_now(filter_rows(rows, keep)) == expected
    assert run_now(filter_rows(rows, keep, run_now(rehome_texts(rows)))) == expected
    assert [row for row in rows if keep.matches(row)] == expected


@given(
    cells=st.lists(st.tuples(*[st.text(alphabet="abAB1 ", max_size=5)] * 3), max_size=30),
    name=st.sampled_from(["status", "STATUS", "Status", "x", "x (ext)"]),
    value=st.text(alphabet="abAB1", min_size=1, max_size=2),
    invert=st.booleans(),
)
def test_a_column_filter_looks_in_that_column_only(cells, name: str, value: str, invert: bool) -> None:
    rows = [Row(f"k{i}", row) for i, row in enumerate(cells)]
    keep = parse_filter(f"{'!' if invert else ''}{name}:{value}", COLUMNS)
    position = 1 if name.lower() == "status" else 2
    expected = [row for row in rows if (value.lower() in row.cells[position].lower()) != invert]
    assert run_now(filter_rows(rows, keep)) == expected
    assert [row for row in rows if keep.matches(row)] == expected


def test_what_a_filter_text_means() -> None:
    assert parse_filter("") == parse_filter("!") == parse_filter("~") == parse_filter("status:", COLUMNS)
    assert not parse_filter("status:  ", COLUMNS)
    assert parse_filter("10:30", COLUMNS).kind == "text"  # not a name: text with a colon
    assert parse_filter("fe80::1", COLUMNS).kind == "text"
    assert parse_filter(" Status : Pending", COLUMNS) == RowFilter("pending", False, "column", 1)
    with pytest.raises(
        FilterError, match=r"no column .sip. here \(columns: name, status, x\); for the text itself: ~sip:x"
    ):
        parse_filter("sip:x", COLUMNS)
    with pytest.raises(FilterError, match="not a regular expression: missing \\), unterminated subpattern"):
        parse_filter("~(a", COLUMNS)
    with pytest.raises(FilterError, match="not a regular expression"):
        parse_filter("!~[", COLUMNS)


@pytest.mark.parametrize(
    ("old", "new", "held"),
    [
        ("ab", "abc", True),
        ("abc", "ab", False),
        ("!abc", "!ab", True),
        ("!ab", "abc", False),
        ("pend", "status:pending", True),
        ("!pend", "!status:pending", False),
        ("status:p", "status:pe", True),
        ("status:p", "name:pe", False),
        ("~a", "~ab", False),
        ("~a", "~a", True),
        ("", "~a", True),
        ("a", "~a", False),
    ],
)
def test_a_filter_holds_another_only_when_it_keeps_all_its_rows(old: str, new: str, held: bool) -> None:
    assert parse_filter(old, COLUMNS).holds(parse_filter(new, COLUMNS)) is held


def test_a_huge_digit_run_is_a_number_instead_of_an_error() -> None:
    # int() refuses more than 4300 digits; the old sort raised ValueError out of the table.
    rows = [Row("big", ("9" * 5000,)), Row("small", ("7",)), Row("word", ("abc",))]
    keys = run_now(plan_sort(rows, "c", 0, None))
    assert [row.key for row in run_now(sort_rows(rows, keys, False))[0]] == ["small", "big", "word"]
