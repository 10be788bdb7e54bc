"""netbundle: offline air-gap bundler and installer for Poetry projects."""

__version__ = "0.1.0"

__all__ = ["__version__"]
