"""The one place the library version is written."""

__version__ = "0.1.0"
