"""Made once, from a checkout of 28b8956 (the ledger at schema 3, versioned by PRAGMA user_version),
with `python make_ledger_files.py <this folder>`: the files tests/providers/test_ledger_schema.py
upgrades. Kept for the record; it needs that commit's providers/ledger.py (`_MIGRATIONS`)."""

import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from providers import ledger as L
from providers.bindings import ACTIVE, Binding, BindRequest

out = Path(sys.argv[1])
T0 = datetime(2031, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


def clock():
    return T0


path3 = out / "ledger-schema3.sqlite3"
for p in out.glob("ledger-schema*"):
    p.unlink()
with L.BindingLedger(path3, clock=clock) as led:
    led.record_created(
        Binding(
            provider="huawei",
            mode="AXYB",
            subscription_id="h-1",
            x="+8617000000001",
            a="+8613800000001",
            b="+8613900000001",
            y="+8617000000002",
            expires_at=T0 + timedelta(days=1),
            status=ACTIVE,
            raw={"k": "v"},
        )
    )
    led.record_imported(
        [
            Binding(
                provider="aliyun",
                mode="AXB",
                subscription_id="a-1",
                x="+8617100000001",
                a="+8613800000002",
                b="+8613900000002",
                status=ACTIVE,
                recording=True,
            )
        ]
    )
    led.mark_unbound("aliyun:a-1")
    led.record_pending_bind(
        "volcengine",
        "prod",
        BindRequest(
            mode="AXB",
            expires_at=T0 + timedelta(hours=2),
            a="+8613800000003",
            b="+8613900000003",
            idempotency_key="key-1",
        ),
        "checked",
    )
conn = sqlite3.connect(path3)
conn.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal beside it
conn.close()
path1 = out / "ledger-schema1.sqlite3"
conn = sqlite3.connect(path1, isolation_level=None)
conn.execute("BEGIN")
for statement in L._MIGRATIONS[1]:
    conn.execute(statement)
conn.execute("PRAGMA user_version = 1")
conn.execute(
    "INSERT INTO bindings (key, provider, mode, subscription_id, x, a, b, expires_at, status, origin, created_at, updated_at) VALUES ('aliyun:old-1', 'aliyun', 'AXB', 'old-1', '+8617100000009', '+8613800000009', '+8613900000009', '2031-03-05T05:06:07.123456+00:00', 'active', 'created', '2031-03-04T05:06:07.123456+00:00', '2031-03-04T05:06:07.123456+00:00')"
)
conn.execute(
    "INSERT INTO events (binding_key, at, kind, detail) VALUES ('aliyun:old-1', '2031-03-04T05:06:07.123456+00:00', 'bound', 'AXB')"
)
conn.execute("COMMIT")
conn.close()
print(sorted(p.name for p in out.iterdir()))
