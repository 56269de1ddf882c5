"""PySetl Hub registry server."""

__version__ = "0.1.0"
