"""Provider clients for teledeck: vendor APIs and the local sandbox.

Nothing below this package imports textual or tui/: the UI reaches providers only through
`providers.session.ProviderSession`.
"""

import sys

# httpx imports its own command-line client (click, rich.progress, pygments) whenever click is
# installed, and uvicorn (the push receiver's server) brings click. teledeck never runs httpx's
# CLI; importing it cost every start that reaches the network or the sandbox ~60 ms on our
# machines. A None entry makes httpx take its own "CLI not installed" fallback.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
