"""Telnyx error bodies, in all their spec variants, map to typed errors that keep the vendor's words."""

from __future__ import annotations

import httpx

from providers.errors import AuthError, Conflict, NotFound, ProviderError, Unavailable, ValidationError
from providers.telnyx.errors import error_from_response


def mapped(status, body=None, content=None, headers=None):
    if content is None and body is not None:
        return error_from_response(httpx.Response(status, json=body, headers=headers))
    return error_from_response(httpx.Response(status, content=content or b"", headers=headers))


def test_validation_error_keeps_code_pointer_and_detail():
    error = mapped(
        422,
        {
            "errors": [
                {
                    "code": "10015",
                    "title": "Invalid value",
                    "detail": "ip_address is invalid",
                    "source": {"pointer": "/ip_address"},
                }
            ]
        },
    )
    assert isinstance(error, ValidationError)
    assert error.code == "10015" and error.pointer == "/ip_address"
    assert error.problems[0].field == "ip_address"
    assert str(error) == "[10015] Invalid value: ip_address is invalid (HTTP 422)"


def test_integer_codes_and_description_instead_of_detail():
    error = mapped(409, {"errors": [{"code": 10031, "title": "In use", "description": "group has numbers"}]})
    assert isinstance(error, Conflict) and error.code == "10031" and "group has numbers" in error.message


def test_parameter_source_becomes_a_problem():
    error = mapped(400, {"errors": [{"code": "10015", "title": "Bad", "source": {"parameter": "page[size]"}}]})
    assert error.problems[0].pointer == "page[size]"


def test_empty_500_body_is_readable():
    error = mapped(500, content=b"")
    assert isinstance(error, Unavailable) and "empty body" in error.message


def test_html_body_and_wrong_shapes_never_raise():
    assert (
        "unreadable" in mapped(502, content=b"<html>bad gateway</html>", headers={"content-type": "text/html"}).message
    )
    assert isinstance(mapped(404, {"errors": "nope"}), NotFound)
    assert isinstance(mapped(401, {"errors": [None, 3, {"title": "Authentication failed"}]}), AuthError)
    assert isinstance(mapped(418, ["x"]), ProviderError)


def test_several_errors_are_counted():
    error = mapped(
        422,
        {
            "errors": [
                {"code": "1", "title": "a", "source": {"pointer": "/first_name"}},
                {"code": "2", "title": "b", "source": {"pointer": "/country_code"}},
            ]
        },
    )
    assert "(and 1 more)" in error.message
    assert [p.field for p in error.problems] == ["first_name", "country_code"]


def test_empty_object_and_problem_json_bodies_are_read():
    assert mapped(404, {}).message == "HTTP 404 with no error details"
    problem = mapped(
        404,
        {"type": "about:blank", "title": "Not Found", "detail": "no such route"},
        headers={"content-type": "application/problem+json"},
    )
    assert isinstance(problem, NotFound) and problem.message == "Not Found: no such route"
