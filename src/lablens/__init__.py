"""lablens: a self-hosted experiment tracker made for Jupyter."""

__version__ = "0.1.0"
