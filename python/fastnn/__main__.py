"""``python -m fastnn``: prints ``fastnn.show_config()``."""

from fastnn._config import show_config

show_config()
