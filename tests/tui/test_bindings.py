"""The Bindings screen, driven with Pilot against the in-process vendor emulators."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from textual.widgets import Input, Select

from providers.bindings import ACTIVE, REMOVED
from providers.sandbox.huawei import HuaweiSandbox
from providers.session import sandbox_session
from tests.tui.conftest import notices, settle
from tui.app import TeledeckApp
from tui.screens.bindings import BindingsScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.form import FormScreen

SIZE = (160, 40)


@pytest.fixture
def huawei() -> HuaweiSandbox:
    return HuaweiSandbox()


@pytest.fixture
def bindings_app(sandbox, huawei, tmp_path):
    def build(*, read_only: bool = False) -> TeledeckApp:
        session = sandbox_session(
            handler=sandbox,
            read_only=read_only,
            binding_handlers={"huawei": huawei},
            ledger_path=tmp_path / "ledger.sqlite3",
        )
        return TeledeckApp(session, start="bindings")

    return build


def rows(app):
    table = app.screen.query_one("#bindings-table")
    return [table.row_at(i) for i in range(table.visible_count)]


def huawei_axb(huawei):
    return huawei.state["numbers"]["AXB"]


async def fill(form: FormScreen, **values):
    for name, value in values.items():
        widget = form.query_one(f"#input-{name}")
        widget.value = value


async def test_discovers_watched_bindings_with_countdown_and_warning(bindings_app, huawei):
    app = bindings_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BindingsScreen)
        shown = rows(app)
        assert len(shown) == len(app.screen.bindings) >= 5
        soon = [r for r in shown if r.style == "warning"]
        assert soon, "bindings expiring within 10 minutes stand out"
        for row in soon:
            assert row.cells[5].startswith("00:")  # counting down in minutes and seconds
        assert any("found on watched X numbers" in n for n in notices(app))


async def test_countdown_ticks_and_expiry_greys_the_row(bindings_app, monkeypatch):
    app = bindings_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        real_now = screen.now()
        soonest = min(
            (
                b
                for b in screen.bindings.values()
                if b.status == ACTIVE and b.expires_at and b.expires_at > real_now + timedelta(seconds=40)
            ),
            key=lambda b: b.expires_at,
        )
        first = next(r for r in rows(app) if r.key == soonest.key).cells[5]
        monkeypatch.setattr(screen, "now", lambda: real_now + timedelta(seconds=30))
        screen.render_rows()
        later = next(r for r in rows(app) if r.key == soonest.key).cells[5]
        assert first != later
        monkeypatch.setattr(screen, "now", lambda: soonest.expires_at + timedelta(minutes=5))
        screen.render_rows()
        row = next(r for r in rows(app) if r.key == soonest.key)
        assert row.cells[5] == "5m ago" and row.style == "dim" and row.cells[8] == "expired"
        await pilot.press("x")  # hide expired
        assert soonest.key not in [r.key for r in rows(app)]
        await pilot.press("x")
        assert soonest.key in [r.key for r in rows(app)]


async def test_bind_with_bad_then_good_input(bindings_app, huawei):
    app = bindings_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        before = len(app.screen.bindings)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#input-provider", Select).value = "huawei"
        await fill(form, a="13800000031", b="+8613800000032", expires="+10s")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "+86" in form.field_errors["a"]  # Huawei wants E.164
        assert "minute" in form.field_errors["expires"] or "use +30m" in form.field_errors["expires"]
        await fill(form, a="+8613800000031", expires="+2h", area_code="010")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), form.field_errors
        assert len(app.screen.bindings) == before + 1
        made = app.screen.table.current_row
        assert made.cells[2] == "+8613800000031" and made.cells[8] == ACTIVE
        stored = app.session.ledger.get(made.key)
        assert stored is not None and stored.a == "+8613800000031"


async def test_bind_conflict_shows_the_vendor_code_and_keeps_input(bindings_app, huawei):
    app = bindings_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        existing = next(b for b in app.screen.bindings.values() if b.mode == "AXB" and b.b)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#input-provider", Select).value = "huawei"
        await fill(form, a=existing.a, b=existing.b, x=existing.x, expires="+2h")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        status = str(form.query_one("#form-status").render())
        assert "[10" in status  # the vendor's numeric code
        assert form.query_one("#input-a", Input).value == existing.a


async def test_modify_extends_the_expiry(bindings_app):
    app = bindings_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        target = next(b for b in app.screen.bindings.values() if b.mode == "AXB" and b.expires_at)
        app.screen.table.move_cursor_to_key(target.key)
        await pilot.press("e")
        await pilot.pause()
        await fill(app.screen, expires="+3d")
        await pilot.press("ctrl+s")
        await settle(pilot)
        updated = app.screen.bindings[target.key]
        assert updated.expires_at > target.expires_at + timedelta(days=2)
        assert app.session.ledger.get(target.key).expires_at == updated.expires_at


async def test_unbind_asks_first_cancel_keeps_it_confirm_removes_it(bindings_app, huawei):
    app = bindings_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        target = next(b for b in app.screen.bindings.values() if b.mode == "AXB")
        app.screen.table.move_cursor_to_key(target.key)
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.screen.focused.id == "cancel"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.bindings[target.key].status == ACTIVE
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("right", "enter")
        await settle(pilot)
        assert app.screen.bindings[target.key].status == REMOVED
        assert app.session.ledger.get(target.key).status == REMOVED  # marked, not dropped
        assert target.subscription_id not in {r.get("subscriptionId") for r in huawei.state["axb"]}


async def test_import_by_x_number(sandbox, huawei, tmp_path):
    session = sandbox_session(
        handler=sandbox, binding_handlers={"huawei": huawei}, ledger_path=tmp_path / "ledger.sqlite3"
    )
    session.connect_all()
    for connection in session.connections:  # nothing watched: the ledger starts empty
        connection.account = dataclasses.replace(connection.account, watch=())
    app = TeledeckApp(session, start="bindings")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert rows(app) == []
        x = next(r["relationNum"] for r in huawei.state["axb"])
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one("#input-provider", Select).value = "huawei"
        await fill(app.screen, x=x)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert rows(app) and all(r.cells[3] == x for r in rows(app))
        assert any("Lookup found" in n for n in notices(app))


async def test_read_only_refuses_bind_modify_unbind(bindings_app, huawei):
    app = bindings_app(read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        before = huawei.requests_handled if hasattr(huawei, "requests_handled") else None
        for key in ("n", "e", "ctrl+d"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, BindingsScreen)
        assert sum("Read-only" in n for n in notices(app)) == 3
        if before is not None:
            assert huawei.requests_handled == before


async def test_detail_shows_the_raw_vendor_response(bindings_app):
    app = bindings_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        fields = [path for path, _ in app.screen.rows]
        assert "subscription_id" in fields and any(p.startswith("vendor_response.") for p in fields)


async def test_a_bind_whose_answer_is_lost_is_looked_up_not_resent(sandbox, huawei, tmp_path):
    import httpx

    session = sandbox_session(
        handler=sandbox,
        binding_handlers={"huawei": huawei},
        timeout=httpx.Timeout(0.3),
        ledger_path=tmp_path / "ledger.sqlite3",
    )
    app = TeledeckApp(session, start="bindings")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        free_x = next(
            x
            for x, n in huawei_axb(huawei).items()
            if n["status"] == "normal" and not any(r["relationNum"] == x for r in huawei.state["axb"])
        )
        before = len(huawei.state["axb"])
        # Huawei applies the bind, then answers too late for the client.
        huawei.faults.delay("POST", "/rest/caas/relationnumber/partners/v1.0", 5, apply=True)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#input-provider", Select).value = "huawei"
        await fill(form, a="+8613800000041", b="+8613800000042", x=free_x, expires="+2h")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        assert len(huawei.state["axb"]) == before + 1  # bound once, never re-sent
        assert any("a check found it by what was sent" in n for n in notices(app))
        made = app.screen.table.current_row
        assert made.cells[3] == free_x and app.session.ledger.get(made.key) is not None


async def test_a_lost_volcengine_bind_answer_is_found_by_what_the_form_sent(sandbox, tmp_path):
    from providers.sandbox.volcengine import VolcSandbox

    volc = VolcSandbox()
    pool = "NP202601050000000201"  # the AXB pool
    session = sandbox_session(
        handler=sandbox, binding_handlers={"volcengine": volc}, ledger_path=tmp_path / "ledger.sqlite3"
    )
    app = TeledeckApp(session, start="bindings")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        x = volc.pool_numbers(pool)[0]
        volc.faults.reset("*", "/BindAXB", apply=True)  # bound, and the answer lost
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#input-provider", Select).value = "volcengine"
        await fill(form, a="13700080001", b="13600080001", x=x, pool=pool, expires="+2h")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        made = [s for s in volc.state["subscriptions"] if s["PhoneNoA"] == "13700080001"]
        assert len(made) == 1 and volc.actions_applied["BindAXB"] == 1  # found, not sent again
        assert app.session.ledger.get(f"volcengine:{made[0]['SubId']}") is not None
        assert any("a check found it by what was sent" in n for n in notices(app))


async def test_a_damaged_ledger_row_is_skipped_and_reported_the_others_show(sandbox, tmp_path):
    import sqlite3
    from datetime import UTC, datetime

    from providers.bindings import Binding
    from providers.ledger import BindingLedger

    path = tmp_path / "ledger.sqlite3"
    with BindingLedger(path) as ledger:
        for n in range(3):
            ledger.record_created(
                Binding(
                    provider="huawei",
                    mode="AXB",
                    subscription_id=f"kept-{n}",
                    x="+8617000000101",
                    a=f"+86138000{n:05d}",
                    b="+8613900000001",
                    expires_at=datetime(2030, 1, 1, tzinfo=UTC),
                    status=ACTIVE,
                )
            )
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("UPDATE bindings SET x = CAST(X'C3' AS TEXT) WHERE key = 'huawei:kept-1'")
    raw.close()
    session = sandbox_session(handler=sandbox, ledger_path=path)
    app = TeledeckApp(session, start="bindings")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        shown = set(app.screen.bindings)
        assert {"huawei:kept-0", "huawei:kept-2"} <= shown and "huawei:kept-1" not in shown
        title = str(app.screen.query_one("#title-bar").render())
        assert "0 in ledger" not in title and "1 unreadable ledger row(s) skipped" in title
        assert any("huawei:kept-1" in n and "UTF-8" in n for n in notices(app))


async def test_modify_is_offered_only_where_the_vendor_can_modify(bindings_app):
    app = bindings_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        by_kind = {}
        for binding in screen.bindings.values():
            live = binding.status == ACTIVE and (binding.seconds_left(screen.now()) or 1) > 0
            by_kind.setdefault((binding.mode, live), binding)
        cases = [(by_kind[("AXB", True)], True), (by_kind[("AX", True)], False)]
        cases += [(b, False) for (mode, live), b in by_kind.items() if not live][:1]
        assert len(cases) == 3, "the seed has a live AXB, a live AX and a binding that is over"
        for binding, modifiable in cases:
            assert screen.table.move_cursor_to_key(binding.key)
            await pilot.pause()
            shown = {b.binding.description for b in screen.active_bindings.values() if b.binding.show}
            assert ("Modify/extend" in shown) is modifiable, binding
            await pilot.press("e")
            await pilot.pause()
            assert isinstance(app.screen, FormScreen) is modifiable
            if modifiable:
                await pilot.press("escape")
                await pilot.pause()
        said = " ".join(notices(app))
        assert "AX bindings cannot be modified: unbind and bind again" in said
        assert "it cannot be modified; bind again" in said


async def test_expires_in_orders_by_time_left_not_by_its_text(bindings_app):
    app = bindings_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        while screen.table.sort_column != "expires_in":
            await pilot.press("o")
            await pilot.pause()
        now = screen.now()
        ordered = [screen.bindings[r.key] for r in rows(app)]
        lefts = [b.seconds_left(now) for b in ordered if b.status != REMOVED and b.seconds_left(now) is not None]
        assert lefts == sorted(lefts) and len(lefts) > 5
        texts = [r.cells[5] for r in rows(app)]
        assert any("d " in t for t in texts) and texts != sorted(texts), "the text order would differ"
        assert "sorted by EXPIRES IN ▲" in str(screen.query_one("#title-bar").render())


async def test_a_bind_of_unknown_outcome_stays_pending_and_a_refresh_settles_it(sandbox, huawei, tmp_path):
    import asyncio

    async def no_wait(seconds: float) -> None:  # the Transport's backoff, without the waiting
        await asyncio.sleep(0)

    session = sandbox_session(
        handler=sandbox,
        binding_handlers={"huawei": huawei},
        ledger_path=tmp_path / "ledger.sqlite3",
        client_options={"huawei": {"sleep": no_wait}},
    )
    app = TeledeckApp(session, start="bindings")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        x = next(n for n, v in huawei_axb(huawei).items() if v["status"] == "normal")
        before = len(huawei.state["axb"])
        huawei.faults.reset("POST", "/rest/caas/relationnumber/partners/v1.0", apply=True)
        huawei.faults.respond("GET", "/rest/caas/relationnumber/partners/v1.0", 503, times=None)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#input-provider", Select).value = "huawei"
        await fill(form, a="+8613800000051", b="+8613800000052", x=x, expires="+2h")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # nothing guessed: the form stays, saying it does not know
        assert "outcome unknown" in str(form.query_one("#form-status").render())
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.session.ledger.pending_binds()) == 1
        assert "1 bind(s) of unknown outcome" in str(app.screen.query_one("#title-bar").render())
        huawei.faults.clear()
        await pilot.press("r")
        await settle(pilot)
        assert app.session.ledger.pending_binds() == []
        assert len(huawei.state["axb"]) == before + 1  # bound once, never sent again
        made = huawei.state["axb"][-1]["subscriptionId"]
        assert app.session.ledger.get(f"huawei:{made}") is not None
        assert any("Bind of unknown outcome settled" in n or "found it by what was sent" in n for n in notices(app))


async def open_bind_form(app, pilot, provider: str, mode: str) -> FormScreen:
    await pilot.press("n")
    await pilot.pause()
    form = app.screen
    assert isinstance(form, FormScreen)
    form.query_one("#input-provider", Select).value = provider
    await pilot.pause()
    form.query_one("#input-mode", Select).value = mode
    await pilot.pause()
    return form


def shown_fields(form: FormScreen) -> set[str]:
    return {spec.name for spec in form.fields if form.query_one(f"#field-{spec.name}").display}


async def test_huawei_ax_bind_form_asks_no_expiry_and_binds_without_one(bindings_app, huawei):
    app = bindings_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_bind_form(app, pilot, "huawei", "AX")
        assert "expires" not in shown_fields(form) and "b" not in shown_fields(form)
        form.query_one("#input-mode", Select).value = "AXB"
        await pilot.pause()
        assert {"expires", "b"} <= shown_fields(form)  # AXB has a lifetime and a B
        form.query_one("#input-mode", Select).value = "AX"
        await pilot.pause()
        await fill(form, a="+8613800000951", area_code="0755")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), form.field_errors
        made = app.screen.bindings[app.screen.table.current_key]
        assert (made.mode, made.a, made.expires_at, made.status) == ("AX", "+8613800000951", None, ACTIVE)
        assert app.session.ledger.get(made.key).expires_at is None
        assert any(r["origNum"] == "+8613800000951" for r in huawei.state["ax"])


async def modify(app, pilot, key: str, **values) -> FormScreen:
    app.screen.table.move_cursor_to_key(key)
    await pilot.pause()
    await pilot.press("e")
    await pilot.pause()
    form = app.screen
    assert isinstance(form, FormScreen)
    shown = shown_fields(form)
    await fill(form, **values)
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert not isinstance(app.screen, FormScreen), form.field_errors
    return shown


async def unbind(app, pilot, key: str) -> None:
    app.screen.table.move_cursor_to_key(key)
    await pilot.press("ctrl+d")
    await pilot.pause()
    await pilot.press("right", "enter")
    await settle(pilot)
    assert app.screen.bindings[key].status == REMOVED
    assert app.session.ledger.get(key).status == REMOVED


async def test_huawei_axe_binding_bound_shown_modified_unbound(bindings_app, huawei):
    app = bindings_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_bind_form(app, pilot, "huawei", "AXE")
        assert {"a", "extension", "expires"} <= shown_fields(form) and "b" not in shown_fields(form)  # AXE has no B
        await fill(form, a="+8613800000961", area_code="0755", extension="0077", expires="+2h")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), form.field_errors
        key = app.screen.table.current_key
        made = app.screen.bindings[key]
        row = app.screen.table.current_row
        assert row.cells[1] == "AXE" and row.cells[3] == f"{made.x} ext 0077" and row.cells[4] == ""
        assert made.expires_at is not None and app.session.ledger.get(key).extension == "0077"
        # Modify: AXE changes its lifetime and recording, never A.
        shown = await modify(app, pilot, key, expires="+3d")
        assert "expires" in shown and "a" not in shown and "b" not in shown
        updated = app.screen.bindings[key]
        assert updated.expires_at > made.expires_at + timedelta(days=2)
        assert app.session.ledger.get(key).expires_at == updated.expires_at
        await unbind(app, pilot, key)
        assert made.subscription_id not in {r["subscriptionId"] for r in huawei.state["axe"]}


async def test_huawei_axyb_binding_bound_shown_modified_unbound(bindings_app, huawei):
    app = bindings_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        form = await open_bind_form(app, pilot, "huawei", "AXYB")
        shown = shown_fields(form)
        assert {"a", "b", "expires"} <= shown and "x" not in shown  # the platform picks X and Y
        await fill(form, a="+8613800000971", b="+8613800000972", area_code="021", expires="+1d")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), form.field_errors
        key = app.screen.table.current_key
        made = app.screen.bindings[key]
        assert made.y and made.x != made.y and made.b == "+8613800000972"
        assert app.screen.table.current_row.cells[3] == f"{made.x} Y {made.y}"
        assert app.session.ledger.get(key).y == made.y  # the ledger keeps Y
        # Modify: only B (Huawei has no AXYB modify; a new YB replaces the old one).
        shown = await modify(app, pilot, key, b="+8613800000973")
        assert shown == {"b"}
        updated = app.screen.bindings[key]
        assert updated.b == "+8613800000973" and updated.y != made.y
        assert (app.session.ledger.get(key).b, app.session.ledger.get(key).y) == (updated.b, updated.y)
        (relation,) = [r for r in huawei.state["axyb"] if r["subscriptionId"] == made.subscription_id]
        assert [(r["numB"], r["numY"]) for r in relation["yb"]] == [(updated.b, updated.y)]
        await unbind(app, pilot, key)
        assert made.subscription_id not in {r["subscriptionId"] for r in huawei.state["axyb"]}


async def test_a_shared_ledger_that_cannot_be_reached_is_said_not_shown_as_empty(sandbox, huawei, tmp_path):
    import socket

    from providers.ledger_store import PostgresTarget

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    session = sandbox_session(handler=sandbox, binding_handlers={"huawei": huawei}, ledger_path=tmp_path / "l.sqlite3")
    session.ledger_target = PostgresTarget(f"postgresql://team@127.0.0.1:{port}/teledeck", "pw-not-shown")
    app = TeledeckApp(session, start="bindings")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        said = [n for n in notices(app) if "cannot open the ledger" in n]
        assert said and f"postgresql://team@127.0.0.1:{port}/teledeck" in said[0]
        assert not any("pw-not-shown" in n for n in notices(app))
        assert app.screen.problem == "ledger unavailable"
