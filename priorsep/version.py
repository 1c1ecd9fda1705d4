"""The library version, recorded in every checkpoint (a module of its own so that low modules can
read it without importing the package's public facade)."""
__version__ = "0.1.0"
