"""PySetl Hub client: find, verify and install PySetl components."""

__version__ = "0.1.0"
__all__ = ["__version__"]
