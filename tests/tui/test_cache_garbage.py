"""A cache entry this version cannot show is a miss, never a permanently empty screen."""

from __future__ import annotations

import pytest

from providers.cache import ResultCache
from providers.session import sandbox_session
from tests.tui.conftest import column, settle, table
from tui.app import TeledeckApp
from tui.resources import REGISTRY

SIZE = (140, 40)


@pytest.mark.parametrize(
    "items",
    [
        [{}, {}],  # two records with the same (empty) key
        [{"id": "same"}, {"id": "same"}],
        [{"id": ["not", "text"], "name": {"deep": [1, 2]}}],
        [{"id": "x", "created_at": "0001-01-01T00:00:00+14:00", "type": 7}],
    ],
)
async def test_garbage_in_the_cache_still_ends_in_the_servers_rows(sandbox, tmp_path, items):
    cache = ResultCache(tmp_path / "cache")
    spec = REGISTRY["billing"]
    cache.put("sandbox", spec.provider, spec.cache_key, items)
    app = TeledeckApp(sandbox_session(handler=sandbox, cache=cache), start="billing")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        names = sorted(g["name"] for g in sandbox.state["billing_groups"])
        assert table(app).total_count == len(names)
        assert sorted(column(app, "name")) == names
