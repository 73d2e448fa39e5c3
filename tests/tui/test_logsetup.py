"""The log file lives where providers.paths says, and TELEDECK_LOG_DIR still moves it."""

from __future__ import annotations

import logging
import stat

import pytest

from providers import paths
from tui import logsetup
from tui.logsetup import configure, log_path


def test_log_path_follows_teledeck_log_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TELEDECK_LOG_DIR", str(tmp_path / "logs"))
    assert log_path() == paths.log_dir() / "teledeck.log" == tmp_path / "logs" / "teledeck.log"


def test_configure_writes_there(monkeypatch, tmp_path):
    monkeypatch.setenv("TELEDECK_LOG_DIR", str(tmp_path / "logs"))
    root = logging.getLogger("teledeck")
    saved = root.handlers[:], root.level, root.propagate
    try:
        path = configure()
        logging.getLogger("teledeck.ui").info("hello from the test")
        for handler in root.handlers:
            handler.flush()
        assert path == tmp_path / "logs" / "teledeck.log"
        assert "hello from the test" in path.read_text(encoding="utf-8")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.level, root.propagate = saved


# ---- private, rotating, numbers masked ------------------------------------------------------


@pytest.fixture
def logging_to(monkeypatch, tmp_path):
    """configure() into tmp_path/logs; the teledeck logger restored afterwards."""
    monkeypatch.setenv("TELEDECK_LOG_DIR", str(tmp_path / "logs"))
    root = logging.getLogger("teledeck")
    saved = root.handlers[:], root.level, root.propagate
    yield tmp_path / "logs"
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level, root.propagate = saved


def flushed_text(path) -> str:
    for handler in logging.getLogger("teledeck").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_the_log_is_0600_in_a_0700_folder(logging_to):
    path = configure()
    logging.getLogger("teledeck.ui").info("x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_an_older_world_readable_log_is_tightened(logging_to):
    logging_to.mkdir(mode=0o755)
    logging_to.chmod(0o755)
    old = logging_to / "teledeck.log"
    old.write_text("old line\n")
    old.chmod(0o644)
    path = configure()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(logging_to.stat().st_mode) == 0o700
    assert "old line" in flushed_text(path)  # appended to, not replaced


def test_a_shared_folder_is_left_alone(monkeypatch, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setenv("TELEDECK_LOG_DIR", str(shared))
    root = logging.getLogger("teledeck")
    saved = root.handlers[:], root.level, root.propagate
    try:
        path = configure()
        assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:], root.level, root.propagate = saved


def test_the_log_rotates_and_every_file_stays_0600(logging_to, monkeypatch):
    monkeypatch.setattr(logsetup, "MAX_BYTES", 4000)
    path = configure()
    log = logging.getLogger("teledeck.transport")
    for i in range(400):
        log.info("request %d %s", i, "x" * 80)
    files = sorted(p.name for p in logging_to.iterdir())
    assert files == ["teledeck.log", "teledeck.log.1", "teledeck.log.2", "teledeck.log.3"]
    for name in files:
        file = logging_to / name
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        assert file.stat().st_size <= 4000
    assert "request 399" in flushed_text(path)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("GET https://api.telnyx.com/v2/phone_numbers/+13125550123", "/+*******0123"),
        ("?PhoneNoA=8613800000001&PhoneNoB=17100000002", "PhoneNoA=*********0001&PhoneNoB=*******0002"),
        ("to=%2B8613800000003", "to=%2B*********0003"),
        ('{"caller": "+86 ignored", "x": "17100000004"}', '"x": "*******0004"'),
    ],
)
def test_mask_numbers(raw, masked):
    assert masked in logsetup.mask_numbers(raw)


def test_mask_numbers_leaves_dates_counts_and_addresses():
    text = "2026-12-01 22:54:32,123 fetched 250 rows from 203.0.113.7 in 1.5 s; HTTP 429; id 6a09cdc3-8948"
    assert logsetup.mask_numbers(text) == text


def test_numbers_are_masked_in_messages_arguments_and_tracebacks(logging_to):
    path = configure()
    log = logging.getLogger("teledeck.ui")
    log.info("bound %s to %s", "+8613800000005", "17100000006")
    try:
        raise ValueError("no binding for 17100000007")
    except ValueError:
        log.exception("lookup failed")
    text = flushed_text(path)
    for number in ("8613800000005", "17100000006", "17100000007"):
        assert number not in text
    assert "0005" in text and "0006" in text and "0007" in text


async def test_a_real_request_logs_its_url_with_numbers_masked(logging_to):
    """Alibaba's RPC calls carry the numbers in the query string; the transport logs the URL."""
    from providers.errors import ProviderError
    from providers.session import sandbox_session

    path = configure()
    session = sandbox_session(state_dir=logging_to.parent / "state", kinds=["aliyun-pls"])
    try:
        aliyun = session.binding_providers["aliyun"]
        try:
            await aliyun.lookup(x="17100000008", pool=session.account("aliyun").settings.get("pool_key", ""))
        except ProviderError:
            pass  # an answer either way: the request was sent and logged
    finally:
        await session.aclose()
    text = flushed_text(path)
    assert "PhoneNoX" in text or "17100000008" not in text
    assert "17100000008" not in text and "0008" in text
    for secret in session.account("aliyun").credentials.values():
        assert secret not in text
