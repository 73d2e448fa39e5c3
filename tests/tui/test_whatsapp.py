"""The WhatsApp numbers screen (Alibaba CAMS) against the in-process emulator."""

from __future__ import annotations

import pytest

from providers.sandbox.aliyun_cams import CamsSandbox
from providers.session import sandbox_session
from tests.tui.conftest import notices, settle, table
from tui.app import TeledeckApp
from tui.screens.detail import DetailScreen

SIZE = (160, 40)


@pytest.fixture
def cams():
    return CamsSandbox()


@pytest.fixture
def whatsapp_app(sandbox, cams, tmp_path):
    def build(**kw):
        session = sandbox_session(
            handler=sandbox, binding_handlers={"aliyun-cams": cams}, ledger_path=tmp_path / "ledger.sqlite3", **kw
        )
        return TeledeckApp(session, start="whatsapp")

    return build


def by_number(app):
    t = table(app)
    return {t.row_at(i).key: t.row_at(i) for i in range(t.visible_count)}


async def test_shows_every_seeded_number_with_rating_as_colour_and_text(whatsapp_app, cams):
    app = whatsapp_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        rows = by_number(app)
        seeded = cams.numbers(cams.cust_space_id)
        assert set(rows) == {n["PhoneNumber"] for n in seeded}
        for number in seeded:
            row = rows[number["PhoneNumber"]]
            rating = number.get("QualityRating", "").upper()
            assert row.cells[3] == (rating or "?")  # the rating as text
            if rating == "RED":
                assert row.style == "error"  # and as colour
            elif rating == "YELLOW":
                assert row.style == "warning"
        assert {r.cells[3] for r in rows.values()} >= {"GREEN", "YELLOW", "RED"}


async def test_filter_to_degraded_numbers(whatsapp_app):
    app = whatsapp_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"red")
        visible = [table(app).row_at(i) for i in range(table(app).visible_count)]
        assert visible and all("red" in " ".join(r.cells).lower() for r in visible)


async def test_sync_pulls_the_new_state_and_reloads(whatsapp_app, cams):
    app = whatsapp_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        number = next(iter(by_number(app)))
        cams.meta_change(number, QualityRating="RED")  # Meta's side changed; CAMS does not know yet
        await pilot.press("r")
        await settle(pilot)
        assert by_number(app)[number].cells[3] != "RED"
        await pilot.press("s")
        await settle(pilot)
        assert by_number(app)[number].cells[3] == "RED"
        assert any("Sync from Meta: done" in n for n in notices(app))


async def test_sync_is_a_write_so_read_only_refuses_it_and_refresh_reads(whatsapp_app, cams):
    app = whatsapp_app(read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        synced = cams.action_counts["ChatappSyncPhoneNumber"]
        await pilot.press("s")
        await settle(pilot)
        assert any("Read-only" in n for n in notices(app))
        assert not any("Sync from Meta: done" in n for n in notices(app))
        queried = cams.action_counts["QueryChatappPhoneNumbers"]
        await pilot.press("r")
        await settle(pilot)
        assert cams.action_counts["QueryChatappPhoneNumbers"] == queried + 1
        assert cams.action_counts["ChatappSyncPhoneNumber"] == synced


async def test_a_refresh_storm_never_exceeds_the_vendor_limit(whatsapp_app, cams):
    app = whatsapp_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        before = sum(cams.action_counts.values())
        for _ in range(15):  # as fast as workers start: loads and syncs in flight together
            screen.run_spec_action(screen.spec.actions[0], None)
            screen.load()  # exclusive: each cancels the previous load, whose call may be in flight
        while any(worker.is_running for worker in app.workers):
            await pilot.pause(0.05)
        assert sum(cams.action_counts.values()) - before > 15  # well over 10 calls were asked for
        assert cams.throttled == 0  # the shared limiter kept every second at 10 calls or fewer
        assert not any("LimitControl" in n for n in notices(app))


async def test_detail_has_callbacks_and_queues(whatsapp_app):
    app = whatsapp_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        fields = dict(app.screen.rows)
        assert "PhoneNumber" in fields and "QualityRating" in fields
