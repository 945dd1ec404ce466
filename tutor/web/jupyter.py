"""The entry point jupyter-server-proxy reads, so that a Jupyter server (and so every
user's server on a JupyterHub) offers ``tutor`` in its launcher.

The Jupyter server has already signed the user in and runs as them, in their own
container on a classroom hub, so ``tutor serve`` runs without a roster: one learner,
their own workspace (``$TUTOR_WORKSPACE``, else ``~/tutor-workspace`` in their home),
listening on the loopback port the proxy picks. The page's URLs are relative, so the
proxy's prefix (``/user/NAME/tutor/``) needs no configuration.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ICON = Path(__file__).parent / "static" / "tutor.svg"


def setup_tutor() -> dict[str, Any]:
    """jupyter-server-proxy's server process spec for ``tutor``."""
    return {
        "command": [sys.executable, "-m", "tutor", "serve", "--host", "127.0.0.1", "--port", "{port}"],
        "timeout": 60,
        "absolute_url": False,
        "new_browser_tab": True,
        "launcher_entry": {"enabled": True, "title": "tutor (PyTorch lessons)", "icon_path": str(ICON)},
    }
