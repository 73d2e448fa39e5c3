"""A served emulator's push sink (`teledeck sandbox serve --receiver URL`): each push of a simulated
call POSTed to a receiver over HTTP, as the vendor would send it.

The push goes to URL + its route + its rest (Alibaba's token), with its query and headers, and
the receiver's answer comes back as a PushReply. The timeout is short: a receiver that is down
or slow must not hold the emulator (which answers the control request that placed the call).
A failure raises the httpx error, which `Emulator.deliver` reports as "not delivered" and logs
by type; it never reaches the caller as an exception.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from providers.pushes import PushReply, PushRequest

if TYPE_CHECKING:
    import httpx

TIMEOUT_S = 5.0
_MAX_ANSWER = 64 * 1024  # the receiver's answer is short; more is not read
# Headers httpx sets itself for the request it sends (a push's own would be stale or wrong).
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class HttpPushSink:
    """POST each push to the receiver at `url` (a base URL: scheme, host, port, maybe a path)."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT_S, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(timeout=self._timeout, transport=self._transport, follow_redirects=False)
            return self._client

    def __call__(self, push: PushRequest) -> PushReply:
        headers = {name: value for name, value in push.headers.items() if name.lower() not in _OWN_HEADERS}
        request = self._http().build_request(
            "POST", self.url + push.route + push.rest, content=push.body, params=dict(push.query), headers=headers
        )
        response = self._http().send(request, stream=True)
        try:
            body = b""
            for chunk in response.iter_raw():
                body += chunk
                if len(body) >= _MAX_ANSWER:
                    break
        finally:
            response.close()
        return PushReply(response.status_code, body[:_MAX_ANSWER], response.headers.get("content-type", ""))

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


__all__ = ["TIMEOUT_S", "HttpPushSink"]
