"""Exploratory: the receiver as an app object for granian (`granian ... granian_app:app`).

Granian imports the app in its worker process, so this reads the environment the way
`python -m receiver` does.
"""

from __future__ import annotations

import os

from receiver.app import create_app
from receiver.logs import configure_logging
from receiver.settings import load_settings

_settings = load_settings(os.environ)
configure_logging(_settings.log_level)
app = create_app(_settings)
