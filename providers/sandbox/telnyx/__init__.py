"""A local emulator of the Telnyx v2 "account access" API.

It serves, under `/v2`, the 27 operations of the trimmed official OpenAPI document
(docs/reference/telnyx-account-access.openapi.json) with the same paths, methods, envelopes and
status codes, plus `GET /telephony_credentials` so a UI can list credentials:

    access_ip_address        list / create / retrieve / delete      (single objects come bare)
    access_ip_ranges         list / create / delete (no retrieve)   (single objects come bare)
    addresses                list / create / retrieve / delete, actions/validate,
                             {id}/actions/accept_suggestions (202 first time, 200 after)
    authentication_providers list / create / retrieve / PATCH / delete
    billing_groups           list / create / retrieve / PATCH / delete (409 while in use)
    integration_secrets      list / create (201) / delete (204, empty body)
    telephony_credentials    list, POST {id}/token (201, text/plain JWT)

It behaves like the real service where a client can tell: Bearer auth (401, code 10009), per-key
rate limits with x-ratelimit-* headers (429, code 10011, Retry-After), `Idempotency-Key` on POSTs,
`page[number]`/`page[size]` pagination with the same `meta`, the documented filters and sorts, and
422 validation errors whose `source.pointer` names the field.

It is a `providers.sandbox.http.Handler`: use it in process through `AsyncInProcessTransport`, or on
loopback with `serve()` / `teledeck sandbox serve`. `sandbox.faults` injects failures for tests.

Where the emulator had to choose (the spec is silent or contradicts itself):

- Error `code` is always a string, also for billing groups, whose spec schema says integer (Telnyx
  sends strings in practice; see tests/interop/test_openapi_conformance.py).
- Invalid list parameters (page, sort, filters) answer with the status each operation declares:
  422 for access_ip_address and access_ip_ranges (their only declared error), 400 for the others.
- A billing-group id that is not a UUID answers 422, code 10006, source.parameter "id".
- accept_suggestions takes the location UUID the spec names, and also the address id, because the
  Address object does not expose the location UUID; an address with no suggestion answers 404.
- Deleting an address that is some number's emergency address answers 422 (code 10021).
- A token for an expired telephony credential is refused with 422.
- Idempotency keys follow developers.telnyx.com: ^[A-Za-z0-9_:-]{1,255}$; only 2xx answers are
  stored and replayed; the same key with another query or body answers 422. (A second request
  while the first is still in flight, 409/10036 at Telnyx, cannot happen: requests are serialised.)
- Codes come from Telnyx's API error catalogue: 10004 for a missing field, 10015 for a value of the
  wrong type or shape, 10003 for a bad URL, 10012 for a duplicate, 10023 for malformed JSON.
  Address-validation results use 20207 (the spec's own example) and 20209 (postal code, our pick).
- An SSO provider update that sends `settings` must send all three IdP fields (the update body
  reuses the create body's `settings` schema); they replace the old ones.
- A new access IP or IP range is "pending" and turns "added" ACCESS_IP_SYNC_SECONDS later (by `clock`).
- `/access_ip_address` takes one address: a CIDR block there is refused (422, 10015, pointer
  /ip_address, naming /access_ip_ranges). `/access_ip_ranges` takes a block written with its
  prefix and no host bits set (a bare address, or host bits, is refused with 422 saying what would
  do), stored in canonical form; the same block twice is 10012. The spec has only these three
  operations and declares only 422 (list, create) and 404 (delete) besides 200.

The package, by job: `sandbox` (the gateway: auth, rate limits, idempotency, control endpoints),
`routes` (the resources and their operations), `validation` (field, query and address checks),
`seed` (the first-start state), `records` (timestamps, ids, the API's view of a record), `tokens`
(telephony JWTs) and `errors` (Telnyx's error envelope).
"""

from providers.sandbox.telnyx.errors import ApiError, problem
from providers.sandbox.telnyx.sandbox import (
    API_KEY_ENV,
    BASE_PATH,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TELNYX_API_KEY,
    IN_PROCESS_BASE_URL,
    RATE_LIMIT_ENV,
    TelnyxSandbox,
)
from providers.sandbox.telnyx.seed import build_seed
from providers.sandbox.telnyx.tokens import JWT_SECRET, decode_token, make_token
from providers.sandbox.telnyx.validation import validate_address_fields

__all__ = [
    "API_KEY_ENV",
    "BASE_PATH",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_TELNYX_API_KEY",
    "IN_PROCESS_BASE_URL",
    "JWT_SECRET",
    "RATE_LIMIT_ENV",
    "ApiError",
    "TelnyxSandbox",
    "build_seed",
    "decode_token",
    "make_token",
    "problem",
    "validate_address_fields",
]
