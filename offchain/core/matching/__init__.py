"""Matching: the order book, order validation, the order handlers (take, fill, STP), the call auction."""
