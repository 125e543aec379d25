"""A client's copy of one market's book from the `book` stream, following the resync rule.

    copy = BookCopy()
    for message in stream:              # {"channel": "book", "type": "snapshot"|"delta", "data": ...}
        if not copy.apply(message["data"], message["type"]):
            copy.reset(http.get(f"/book/{symbol}", params={"depth": 50}).json())  # a gap: resync

A snapshot (or `GET /book`) sets the copy and its `seq`; a delta applies only when its seq is the
copy's + 1. Anything else is a gap: the copy is stale until the next snapshot.
"""

from __future__ import annotations


class BookCopy:
    """Levels `{price: qty}` (decimal strings) per side, and the seq they are at (None: no copy)."""

    def __init__(self) -> None:
        self.seq: int | None = None
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}

    def reset(self, snapshot: dict) -> None:
        """Start over from a snapshot (stream `snapshot` data or a `GET /book` answer)."""
        self.seq = snapshot["seq"]
        self.bids = {p: q for p, q in snapshot["bids"]}
        self.asks = {p: q for p, q in snapshot["asks"]}

    def apply(self, data: dict, kind: str = "delta") -> bool:
        """Apply a book message; return False on a gap (the copy is then dropped until a snapshot)."""
        if kind == "snapshot":
            self.reset(data)
            return True
        if self.seq is None or data["seq"] != self.seq + 1:
            self.seq = None  # stale: wait for a snapshot
            return False
        for side, levels in ((self.bids, data["bids"]), (self.asks, data["asks"])):
            for p, q in levels:
                if q == "0":
                    side.pop(p, None)
                else:
                    side[p] = q
        self.seq = data["seq"]
        return True
