"""A throwaway PostgreSQL server for the tests, from the machine's own binaries: never a mock.

`initdb` and `postgres` refuse to run as root, and CI runs as root: there the cluster lives in a
temporary directory owned by the `postgres` system user and every server command runs as that
user (`runuser -u postgres -- ...`); as anyone else they run directly. The server listens on
127.0.0.1 at a free port, with password (scram-sha-256) authentication over TCP, so the tests
connect the way a team's console does: a URL without the password, the password beside it.
Durability is off (fsync, synchronous_commit, full_page_writes): a test server's data is thrown
away.

Missing binaries are a failure, not a skip: `.ci/run` installs them (postgresql-15).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPERUSER = "postgres"


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb, else the one `initdb` on PATH is in."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(os.path.realpath(initdb)).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running server: `url(db)` is the URL a ledger config holds, `password` its password."""

    bindir: Path
    root: Path
    port: int
    password: str = field(repr=False)
    as_user: list[str] = field(default_factory=list)  # the runuser prefix when running as root
    _databases: int = 0
    _admin: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str, user: str = SUPERUSER) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.as_user, *argv], capture_output=True, text=True, check=False, timeout=120)

    def admin(self, sql: str, database: str = "postgres") -> None:
        """Run `sql` as the superuser on one connection per database kept open (autocommit:
        CREATE DATABASE cannot be in a transaction; a lock held by a leaked transaction fails
        it in 10 s instead of hanging the suite)."""
        import psycopg

        conn = self._admin.get(database)
        if conn is None or conn.closed:
            conn = psycopg.connect(self.url(database), password=self.password, autocommit=True)
            conn.execute("SET lock_timeout = '10s'")
            self._admin[database] = conn
        conn.execute(sql)

    def create_database(self, prefix: str = "ledger") -> str:
        """A new empty database; its URL."""
        self._databases += 1
        name = f"{prefix}_{os.getpid()}_{self._databases}"
        self.admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        done = self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        if done.returncode != 0:
            log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stdout}{done.stderr}{log[-2000:]}")

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")


def start_server() -> PgServer:
    """initdb a temporary cluster and start it. RuntimeError saying what is missing or failed."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL's server binaries (initdb, pg_ctl) were not found in /usr/lib/postgresql/*/bin or on PATH: "
            "install them (apt-get install postgresql-15; .ci/run does)"
        )
    root = Path(tempfile.mkdtemp(prefix="teledeck-pg-"))
    as_user: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        import pwd

        try:
            owner = pwd.getpwnam(SUPERUSER)
        except KeyError:
            raise RuntimeError(
                "running as root needs the 'postgres' system user (apt's postgresql package makes it)"
            ) from None
        os.chown(root, owner.pw_uid, owner.pw_gid)
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        as_user = [runuser, "-u", SUPERUSER, "--"]
    password = secrets.token_hex(12)
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if as_user:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    server = PgServer(bindir, root, _free_port(), password, as_user)
    done = server._run(
        str(bindir / "initdb"), "-D", str(server.data), "-U", SUPERUSER, f"--pwfile={pwfile}",
        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        "--no-instructions",
    )  # fmt: skip
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")
    pwfile.unlink()
    try:
        server.start()
    except Exception:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def remove_server(server: PgServer) -> None:
    for conn in server._admin.values():
        conn.close()
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
