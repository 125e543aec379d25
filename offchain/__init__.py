"""Breakwater off-chain: the deterministic exchange engine and the adapters around it."""

__version__ = "0.1.0"
