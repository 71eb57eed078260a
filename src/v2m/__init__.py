"""v2m: local-first voice dictation for Linux desktops."""

__version__ = "0.1.0"
