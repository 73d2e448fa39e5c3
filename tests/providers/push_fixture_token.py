"""tests/providers/push_fixture.py's token-addressed vendor, as a push module (PUSHES)."""

from tests.providers.push_fixture import spec

PUSHES = spec("aliyun", "/aliyun/receipts", token=True)
