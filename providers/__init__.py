"""Provider clients for teledeck: vendor APIs and the local sandbox.

Nothing below this package imports textual or tui/: the UI reaches providers only through
`providers.session.ProviderSession`.
"""
