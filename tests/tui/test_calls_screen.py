"""Calls in the console: the `:calls` screen over the ledger (newest first, the filter box, the
outcome counts per vendor, polled while open), a call's detail with its timeline and recording
link (fetched on demand, masked, copied over OSC 52, failures said with the vendor's code), a
binding's calls under its detail, and the sandbox's simulate-call key.

The ledger is fed with CallEvents directly (add_call_events), as the receiver feeds it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from providers.calls import RecordingLink
from providers.errors import ProviderError
from providers.sandbox.huawei import HuaweiSandbox
from providers.session import sandbox_session
from tests.tui.calls_data import T0, call_events, fake_decoders, seed_calls
from tests.tui.conftest import notice_titles, notices, settle
from tui.app import TeledeckApp, destinations
from tui.screens.bindings import BindingsScreen
from tui.screens.call_detail import CallDetailScreen, masked_link
from tui.screens.calls import CallsScreen, outcome_counts
from tui.screens.command import resolve
from tui.screens.detail import DetailScreen
from tui.screens.pick import PickScreen

SIZE = (140, 40)
URL = "https://record.example.com/hw-0001.wav?Expires=1790007200&Signature=c2VjcmV0LXNpZ25hdHVyZQ"


@pytest.fixture
def huawei() -> HuaweiSandbox:
    return HuaweiSandbox()


@pytest.fixture
def calls_app(sandbox, huawei, tmp_path):
    def build(*, seed: bool = True, start: str = "calls") -> TeledeckApp:
        session = sandbox_session(
            handler=sandbox, binding_handlers={"huawei": huawei}, ledger_path=tmp_path / "ledger.sqlite3"
        )
        if seed:
            seed_calls(session.ledger)
        return TeledeckApp(session, start=start)

    return build


def table(app):
    return app.screen.query_one("#calls-table")


def cells(app, key: str, selector: str = "#calls-table") -> list[str]:
    shown = app.screen.query_one(selector)
    index = [c.key for c in shown.columns].index(key)
    return [shown.row_at(i).cells[index] for i in range(shown.visible_count)]


def title(app) -> str:
    return str(app.screen.query_one("#title-bar").render())


def more_calls(ledger, call_id: str, outcome: str, minutes: int, **kw):
    kw.setdefault("x", "+8617000000101")
    kw.setdefault("caller", "+8613800000101")
    kw.setdefault("callee", "+8617000000101")
    with fake_decoders():
        return ledger.add_call_events(call_events("huawei", call_id, T0 + timedelta(minutes=minutes), outcome, **kw))


@pytest.mark.parametrize("name", ["calls", "call", "cdr", "cdrs"])
def test_the_calls_screen_answers_to_its_names(name):
    found = resolve(name, destinations())
    assert found is not None and found.mode == "calls" and found.title == "Calls"


def test_outcomes_are_counted_per_vendor_in_the_order_of_outcomes():
    from providers.calls import CallRecord

    records = [CallRecord("volcengine", "1", outcome="no binding")] + [
        CallRecord("huawei", str(n), outcome=o) for n, o in enumerate(["busy", "answered", "answered", "answered"])
    ]
    assert outcome_counts(records) == "Huawei 3 answered 1 busy · Volcengine 1 no binding"
    assert outcome_counts([]) == ""


async def test_newest_first_across_vendors_with_outcomes_counted_in_the_title(calls_app):
    app = calls_app(start="allowlist")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"calls", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CallsScreen)
        assert [c.label for c in table(app).columns] == [
            "PROVIDER", "STARTED (UTC)", "X", "A", "B", "OUTCOME", "CAUSE", "DURATION", "BINDING",
        ]  # fmt: skip
        assert cells(app, "provider") == ["aliyun", "volcengine", "huawei", "huawei", "huawei", "huawei"]
        assert cells(app, "started_at")[0] == "2026-09-21 09:22:00"
        assert cells(app, "outcome")[:3] == ["no answer", "no binding", "answered"]
        assert cells(app, "cause")[1] == "the X number has no binding (8014)"
        assert cells(app, "duration_s")[2:] == ["1:02:05", "0:12", "", "1:05"]
        styles = [table(app).row_at(i).style for i in range(table(app).visible_count)]
        assert styles[:3] == ["warning", "warning", ""]
        assert "Calls · Aliyun 1 no answer · Huawei 3 answered 1 busy · Volcengine 1 no binding" in title(app)
        assert "6 calls" in title(app)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("outcome:busy", ["hw-0002"]),
        ("!answered", ["al-55e1", "vc-7f3a", "hw-0002"]),
        ("a:+8613800000202", ["vc-7f3a"]),
        ("caller:0303", ["al-55e1"]),
        ("x:9999", ["vc-7f3a"]),
        ("b:+8617100000303", ["al-55e1"]),
        ("cause:8014", ["vc-7f3a"]),
        ("~^user busy", ["hw-0002"]),
        ("no binding", ["vc-7f3a"]),
    ],
)
async def test_filtered_by_x_a_b_outcome_and_cause_with_the_counts_following(calls_app, typed, expected):
    app = calls_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *typed)
        await settle(pilot)
        keys = [table(app).row_at(i).key.split(":", 1)[1] for i in range(table(app).visible_count)]
        assert keys == expected
        assert f"{len(expected)} of 6 match {typed!r}" in title(app)
        if typed == "outcome:busy":
            assert title(app).startswith("Calls · Huawei 1 busy  ·")


async def test_a_bad_filter_is_said_under_the_box(calls_app):
    app = calls_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"nosuch:1")
        await settle(pilot)
        problem = str(app.screen.query_one("#filter-problem").render())
        assert "no column 'nosuch'" in problem and "caller" in problem


async def test_a_poll_shows_new_calls_keeping_cursor_and_filter(calls_app):
    app = calls_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("slash", *"huawei", "enter")
        await settle(pilot)
        table(app).move_cursor_to_key("huawei:hw-0003")
        assert table(app).current_key == "huawei:hw-0003"
        ledger = app.session.ledger
        reads = []
        original = ledger.calls
        ledger.calls = lambda **kw: reads.append(kw) or original(**kw)
        screen.poll()  # nothing pushed since: the stamp says so, and no call is read
        await settle(pilot)
        assert reads == []
        more_calls(ledger, "hw-0099", "busy", 120, code="17", cause="user busy")
        more_calls(ledger, "hw-0098", "answered", 121, talk=30, x="+8617000000555")
        screen.poll()
        await settle(pilot)
        assert len(reads) == 1
        assert cells(app, "started_at")[:2] == ["2026-09-21 10:31:00", "2026-09-21 10:30:00"]
        assert table(app).current_key == "huawei:hw-0003"  # the cursor stayed on its call
        assert table(app).filter_text == "huawei" and table(app).visible_count == 6
        assert "Huawei 4 answered 2 busy" in title(app)


async def test_no_poll_while_another_screen_is_on_top_then_r_reads_again(calls_app):
    app = calls_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("enter")  # a call's detail on top
        await settle(pilot)
        ledger = app.session.ledger
        reads = []
        original = ledger.calls_stamp
        ledger.calls_stamp = lambda: reads.append(1) or original()
        screen.poll()
        await settle(pilot)
        assert reads == []  # nobody is looking at the list: no read at all
        more_calls(ledger, "hw-0099", "busy", 120)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert table(app).total_count == 7


async def test_enter_opens_the_call_with_its_fields_and_timeline(calls_app):
    app = calls_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"outcome:busy", "enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, CallDetailScreen)
        shown = detail.query_one("#call-fields")
        fields = dict(shown.row_at(i).cells for i in range(shown.visible_count))
        assert list(fields) == [
            "provider", "call_id", "subscription_id", "x", "caller", "callee", "started_at", "answered_at",
            "ended_at", "duration_s", "outcome", "cause_code", "cause", "binding_key", "recording",
        ]  # fmt: skip
        assert fields["call_id"] == "hw-0002" and fields["outcome"] == "busy"
        assert fields["cause_code"] == "17" and fields["cause"] == "user busy"
        assert fields["started_at"] == "2026-09-21 08:37:00 UTC" and fields["duration_s"] == ""
        assert fields["binding_key"].startswith("none")
        assert "Huawei call hw-0002 · busy: user busy (17)" in str(detail.query_one("#call-title").render())
        assert cells(app, "stage", "#call-timeline") == ["start", "ring", "end", "cdr"]
        assert cells(app, "kind", "#call-timeline") == ["callin", "alerting", "disconnect", "fee"]
        assert "stateCode=17" in cells(app, "fields", "#call-timeline")[2]
        assert "none pushed" in str(detail.query_one("#recording-bar").render())
        await pilot.press("l")
        assert any("No recording" in n for n in notices(app))
        detail.query_one("#call-timeline").focus()
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        event_fields = dict(app.screen.rows)
        assert event_fields["kind"] == "disconnect" and event_fields["fields.stateCode"] == "17"


async def open_recorded_call(pilot) -> CallDetailScreen:
    await pilot.press("slash", *"hw-0001", "enter")  # not a cell: the filter finds nothing
    await settle(pilot)
    await pilot.press("escape", "G", "enter")  # the oldest, which has a recording
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, CallDetailScreen) and screen.record.call_id == "hw-0001"
    return screen


async def test_a_provider_without_recording_links_says_so(calls_app, monkeypatch):
    app = calls_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = await open_recorded_call(pilot)
        adapter = app.session.binding_providers["huawei"]
        if hasattr(type(adapter), "recording_link"):  # an adapter that has it, made one that has not
            monkeypatch.delattr(type(adapter), "recording_link")
        await pilot.press("l")
        await settle(pilot)
        assert screen.link is None
        assert any("cannot be fetched from Huawei yet" in n for n in notices(app))

        async def not_yet(recording):
            raise NotImplementedError

        adapter.recording_link = not_yet  # type: ignore[attr-defined]
        await pilot.press("l")
        await settle(pilot)
        assert sum("cannot be fetched from Huawei yet" in n for n in notices(app)) == 2
        assert app.screen is screen  # no crash, still there


async def test_a_failed_recording_link_shows_the_vendor_code_and_message(calls_app):
    app = calls_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = await open_recorded_call(pilot)
        asked = []

        async def refused(recording):
            asked.append(recording)
            raise ProviderError(
                "record file not found", provider="huawei", status=404, code="1010009", request_id="req-77"
            )

        app.session.binding_providers["huawei"].recording_link = refused  # type: ignore[attr-defined]
        await pilot.press("l")
        await settle(pilot)
        assert asked and asked[0].locator == {"fileName": "hw-0001.wav", "recordDomain": "record.example.com"}
        said = notices(app)[-1]
        assert "1010009" in said and "record file not found" in said and "req-77" in said
        assert "huawei error while fetching the recording link of call hw-0001" in notice_titles(app)[-1]
        assert screen.link is None and "l fetches" in str(screen.query_one("#recording-bar").render())


async def test_the_recording_link_is_masked_shown_on_request_and_copied_without_being_said(calls_app, caplog):
    app = calls_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = await open_recorded_call(pilot)
        now = screen.now()

        async def link(recording):
            return RecordingLink(URL, expires_at=now + timedelta(hours=2), lifetime="2 hours")

        app.session.binding_providers["huawei"].recording_link = link  # type: ignore[attr-defined]
        await pilot.press("y")  # nothing fetched yet
        assert "No link yet" in notices(app)[-1]
        await pilot.press("l")
        await settle(pilot)
        bar = str(screen.query_one("#recording-bar").render())
        assert "https://record.example.com/••••••••" in bar and "Signature" not in bar
        assert "(in 2h 0m)" in bar or "(in 1h 59m)" in bar
        assert "links live 2 hours" in bar
        await pilot.press("u")
        assert URL in str(screen.query_one("#recording-bar").render())
        await pilot.press("u")
        assert URL not in str(screen.query_one("#recording-bar").render())
        await pilot.press("y")
        assert app.clipboard == URL
        assert "Copied the recording link" in notices(app)[-1]
        assert not any("Signature" in n for n in notices(app))
        assert "Signature" not in caplog.text


def test_a_link_masked_keeps_only_its_origin():
    assert masked_link(URL) == "https://record.example.com/••••••••"
    assert masked_link("not a url?sig=1") == "••••••••"


# ---- a binding's calls, under its detail --------------------------------------------------------


async def test_the_binding_detail_lists_its_calls_and_enter_opens_one(calls_app):
    app = calls_app(seed=False, start="bindings")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bindings = app.screen
        assert isinstance(bindings, BindingsScreen)
        binding = next(b for b in bindings.bindings.values() if b.provider == "huawei" and b.b)
        seed_calls(app.session.ledger, huawei_binding=binding)
        bindings.table.move_cursor_to_key(binding.key)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        listed = app.screen.query_one("#binding-calls-table")
        assert cells(app, "outcome", "#binding-calls-table") == ["answered", "answered", "busy", "answered"]
        assert cells(app, "cause", "#binding-calls-table")[2] == "user busy (17)"
        assert cells(app, "duration_s", "#binding-calls-table") == ["1:02:05", "0:12", "", "1:05"]
        assert cells(app, "started_at", "#binding-calls-table")[0] == "2026-09-21 09:01:00"
        summary = str(app.screen.query_one("#binding-calls-title").render())
        assert "4 · Huawei 3 answered 1 busy" in summary
        # A call pushed while the detail is open (a simulated one, the receiver's) shows at the next poll.
        on = {"subscription_id": binding.subscription_id, "x": binding.x, "caller": binding.a, "callee": binding.b}
        more_calls(app.session.ledger, "hw-0100", "no answer", 200, **on)
        app.screen.query_one("#binding-calls").poll()
        await settle(pilot)
        assert cells(app, "call_id", "#binding-calls-table")[:2] == ["hw-0100", "hw-0004"]
        assert "5 · Huawei 3 answered 1 busy 1 no answer" in str(app.screen.query_one("#binding-calls-title").render())
        listed.focus()
        listed.move_cursor_to_key("huawei:hw-0004")
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CallDetailScreen) and app.screen.record.call_id == "hw-0002"
        assert app.screen.record.binding_key == binding.key


# ---- simulate a call (the sandbox only) -----------------------------------------------------------


class Placed:
    def __init__(self, call_id, outcome, x):
        self.call_id, self.outcome, self.x, self.binding_id, self.pushes = call_id, outcome, x, "", ()


class Delivered:
    def __init__(self, route, status, detail=""):
        self.route, self.status, self.detail = route, status, detail


async def test_simulate_a_call_asks_the_outcome_and_says_the_pushes(calls_app):
    app = calls_app(seed=False, start="bindings")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        bindings = app.screen
        binding = next(b for b in bindings.bindings.values() if b.provider == "huawei" and b.status == "active")
        bindings.table.move_cursor_to_key(binding.key)
        placed = []

        async def place(provider, *, outcome, binding_id="", x=""):
            placed.append((provider, outcome, binding_id, x))
            routes = [Delivered("/huawei/events", 200), Delivered("/huawei/events", None, "no receiver is set")]
            return Placed("sim-1", outcome, x or binding.x), routes

        app.session.place_simulated_call = place  # type: ignore[attr-defined]
        await pilot.press("s")
        await settle(pilot)
        choices = [value for value, _ in app.screen.choices]
        assert choices == ["answered", "busy", "no answer", "no binding"]
        await pilot.press("down", "enter")  # busy
        await settle(pilot)
        assert placed[-1] == ("huawei", "busy", binding.subscription_id, "")
        said = notices(app)[-1]
        assert "sim-1" in said and "busy" in said
        assert "200 /huawei/events" in said and "not delivered /huawei/events (no receiver is set)" in said
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("end", "enter")  # no binding: on an unbound X the emulator picks
        await settle(pilot)
        assert placed[-1] == ("huawei", "no binding", "", "")


async def test_simulate_is_the_sandboxs_only(calls_app):
    app = calls_app(seed=False, start="bindings")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.session.sandbox = False  # as a real profile's session is
        screen = app.screen
        assert screen.check_action("simulate_call", ()) is False  # hidden from the footer and help
        await pilot.press("s")
        await settle(pilot)
        assert not isinstance(app.screen, PickScreen)
        assert "sandbox" in notices(app)[-1]


async def test_simulate_is_refused_read_only(sandbox, huawei, tmp_path):
    session = sandbox_session(
        handler=sandbox, binding_handlers={"huawei": huawei}, ledger_path=tmp_path / "l.sqlite3", read_only=True
    )
    app = TeledeckApp(session, start="bindings")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert not isinstance(app.screen, PickScreen)
        assert "changes are refused" in notices(app)[-1]


# ---- acceptance: the whole path on the sandbox, for each vendor ------------------------------------


@pytest.mark.parametrize("provider", ["huawei", "volcengine", "aliyun"])
async def test_a_simulated_busy_call_is_in_its_bindings_timeline_and_an_unbound_x_is_no_binding(
    provider, sandbox, tmp_path
):
    # Every emulator of the sandbox as `make run` has it: the pushes go, signed the vendor's way,
    # to the session's in-process receiver, which checks them and writes the ledger.
    session = sandbox_session(handler=sandbox, state_dir=tmp_path / "state", ledger_path=tmp_path / "l.sqlite3")
    app = TeledeckApp(session, start="bindings")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        bindings = app.screen
        assert isinstance(bindings, BindingsScreen)
        binding = next(b for b in bindings.bindings.values() if b.provider == provider and b.status == "active")
        bindings.table.move_cursor_to_key(binding.key)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("down", "enter")  # busy
        await settle(pilot)
        assert "busy" in notices(app)[-1] and "not delivered" not in notices(app)[-1]
        await pilot.press("enter")  # the binding's detail and its calls
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert cells(app, "outcome", "#binding-calls-table") == ["busy"]
        (cause,) = cells(app, "cause", "#binding-calls-table")
        assert "busy" in cause  # the vendor's cause, in words
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("end", "enter")  # a call to one of the vendor's X numbers with no binding
        await settle(pilot)
        await pilot.press("colon")
        await pilot.pause()
        await pilot.press(*"calls", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CallsScreen)
        assert sorted(cells(app, "outcome")) == ["busy", "no binding"]  # both calls, of this vendor only
        assert len(set(cells(app, "provider"))) == 1
        assert "1 busy" in title(app) and "1 no binding" in title(app)
