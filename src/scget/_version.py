"""The version of scget (read by hatchling at build time and by ``scget.__version__``)."""

__version__ = "0.1.0"
