"""teledeck's stylesheets, shipped in the wheel beside this module.

Found by this package's own path, not importlib.resources (which costs ~4 ms of imports at start).
"""

from pathlib import Path

# Every screen's rules, parsed before the first frame.
APP = Path(__file__).with_name("app.tcss")
# The dialogs' rules, added when the first dialog opens (tui/screens/dialog.py).
DIALOGS = Path(__file__).with_name("dialogs.tcss")
