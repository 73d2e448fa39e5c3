"""The receiver over HTTP: a Starlette app around `providers.receiver.Receiver`, served by uvicorn.

Routes: POST on each served push module's route (`/huawei/events`, `/volcengine/callback`) and on
its route with a rest (`/aliyun/receipts/{token}`); GET /healthz (200 when the ledger answers a
read, else 503). Anything else is 404 (405 for a push route asked with another method), logged
like every refusal through the receiver's bounded log, with the path cut to its first segment.

The body is read as it streams and reading stops at the push module's cap (`max_body`): a
Content-Length over it is 413 before a byte is read, and a body that runs past it (chunked, or a
Content-Length that lies) is 413 as soon as it does. A body slower than `read_timeout` is 408.
`Receiver.handle` runs in a worker thread: the ledger is synchronous and may wait on a lock.

uvicorn's access log stays off (it would print the Alibaba token in the path); the receiver's
own lines are the log.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from providers.pushes import PushReply, PushRequest
from providers.receiver import Receiver, clean, plain, shown_route

log = logging.getLogger("teledeck.receiver")

READ_TIMEOUT_S = 30.0  # the whole body, from the first byte to the last
_CLOSE = {"connection": "close"}  # after a refusal mid-body: the rest is not read


def _response(reply: PushReply, headers: dict[str, str] | None = None) -> Response:
    return Response(reply.body, status_code=reply.status, media_type=reply.content_type or None, headers=headers)


def _peer(request: Request) -> str:
    return request.client.host if request.client is not None else ""


async def _read_body(request: Request, cap: int, timeout: float) -> bytes | int:
    """The body, or the status that refuses it (413 too large, 408 too slow, 400 cut short)."""
    declared = request.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > cap:
        return 413
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > cap:
                    return 413
                chunks.append(chunk)
    except TimeoutError:
        return 408
    except ClientDisconnect:
        return 400
    return b"".join(chunks)


_BODY_REFUSALS = {
    413: ("body over {cap} bytes", "too large"),
    408: ("body not received within {timeout:g} s", "too slow"),
    400: ("the client went away mid-body", "incomplete body"),
}


def create_app(receiver: Receiver, *, read_timeout: float = READ_TIMEOUT_S) -> Starlette:
    """The ASGI app answering pushes with `receiver`."""

    def push_endpoint(route: str) -> Callable[[Request], object]:
        async def push(request: Request) -> Response:
            peer = _peer(request)
            cap = receiver.max_body(route)
            body = await _read_body(request, cap, read_timeout)
            if isinstance(body, int):
                reason, answer = _BODY_REFUSALS[body]
                reply = receiver.refuse(route, peer, body, reason.format(cap=cap, timeout=read_timeout), answer)
                return _response(reply, _CLOSE)
            rest = request.path_params.get("rest")
            push_request = PushRequest(
                route=route,
                body=body,
                rest="" if rest is None else "/" + rest,
                query=dict(request.query_params),
                headers={name.lower(): value for name, value in request.headers.items()},
            )
            reply = await run_in_threadpool(receiver.handle, push_request, peer=peer)
            return _response(reply)

        return push

    async def healthz(request: Request) -> Response:
        problem = await run_in_threadpool(receiver.healthy)
        if problem:
            return _response(plain(503, "ledger unavailable"))
        return _response(plain(200, "ok"))

    async def elsewhere(request: Request) -> Response:
        path = request.url.path
        status = 405 if receiver.route_of(path) is not None or path == "/healthz" else 404
        shown = shown_route(path)
        reason = f"{clean(request.method, 10)} not taken here" if status == 405 else "no push module serves this route"
        reply = receiver.refuse(
            shown, _peer(request), status, reason, "method not allowed" if status == 405 else "not found"
        )
        return _response(reply, _CLOSE if status == 405 else None)

    routes = [Route("/healthz", healthz, methods=["GET"])]
    for route in receiver.specs:
        endpoint = push_endpoint(route)
        routes.append(Route(route, endpoint, methods=["POST"]))
        routes.append(Route(route + "/{rest:path}", endpoint, methods=["POST"]))
    every_method = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    routes.append(Route("/{path:path}", elsewhere, methods=every_method))
    return Starlette(routes=routes)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) and listening (port 0: a free one); OSError when it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def serve(app: Starlette, sock: socket.socket) -> None:
    """Serve `app` on `sock` until SIGINT or SIGTERM (uvicorn's graceful shutdown)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_config=None,  # the caller's logging, not uvicorn's dictConfig
        access_log=False,  # it would print request paths: the Alibaba token is one
        lifespan="off",
        server_header=False,
        proxy_headers=False,  # the peer is the socket's; a proxy's X-Forwarded-For is not believed
        limit_concurrency=256,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it caught once it has shut down
        pass


__all__ = ["READ_TIMEOUT_S", "create_app", "listening_socket", "serve"]
