"""teledeck's terminal UI (Textual). Reaches providers only through providers.session."""
