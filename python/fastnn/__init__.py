from fastnn._core import __version__
