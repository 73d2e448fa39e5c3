"""tests/providers/push_fixture.py's signed vendor, as a push module (PUSHES)."""

from tests.providers.push_fixture import spec

PUSHES = spec("huawei", "/huawei/events", token=False)
