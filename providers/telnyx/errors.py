"""Map a Telnyx error answer to the shared error tree.

Telnyx error bodies are `{"errors": [{code, title, detail|description, source{pointer,
parameter}, meta}]}`, but the spec has several variants (integer codes, `description` instead
of `detail`, no body at all on some 500s), so every part is optional here.
"""

from __future__ import annotations

from typing import Any

import httpx

from providers.errors import FieldProblem, ProviderError, status_error_class
from providers.records import mapping, parse_json, text

PROVIDER = "telnyx"


def error_from_response(response: httpx.Response) -> ProviderError:
    status = response.status_code
    cls = status_error_class(status)
    items: list[dict[str, Any]] = []
    body = parse_json(response.content)
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        items = [item for item in body["errors"] if isinstance(item, dict)]

    problems = []
    for item in items:
        source = mapping(item, "source")
        where = text(source, "pointer") or text(source, "parameter")
        if where:
            message = text(item, "detail") or text(item, "description") or text(item, "title")
            problems.append(FieldProblem(pointer=where, message=message, code=text(item, "code")))

    if items:
        first = items[0]
        code, title = text(first, "code"), text(first, "title")
        detail = text(first, "detail") or text(first, "description")
        message = title if not detail or detail == title else (f"{title}: {detail}" if title else detail)
        if len(items) > 1:
            message += f" (and {len(items) - 1} more)"
    elif isinstance(body, dict):
        # No `errors` list: an empty `{}` (as the spec declares for some SSO errors) or an RFC 7807
        # problem document (`title`, `detail`) from a gateway or mock in front of the API.
        code, title, detail = text(body, "code"), text(body, "title"), text(body, "detail")
        message = ": ".join(p for p in (title, detail) if p) or f"HTTP {status} with no error details"
    else:
        code, title, detail = "", "", ""
        if not response.content:
            message = f"HTTP {status} with an empty body"
        else:
            message = (
                f"HTTP {status}: unreadable error body ({response.headers.get('content-type', 'no content type')})"
            )
    return cls(
        message or f"HTTP {status}",
        provider=PROVIDER,
        status=status,
        code=code,
        title=title,
        detail=detail,
        problems=tuple(problems),
    )
