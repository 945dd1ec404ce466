"""tutor: a terminal application that teaches PyTorch."""

__version__ = "0.1.0"
