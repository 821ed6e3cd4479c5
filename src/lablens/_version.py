"""The package version, in a module of its own so every layer can read it without loading the
package ``__init__`` (and with it the SDK and the ``Api``)."""

__version__ = "0.1.0"
