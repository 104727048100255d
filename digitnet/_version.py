"""The version of digitnet (one place, importable without the package)."""

__version__ = "0.1.0"
