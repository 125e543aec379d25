"""The replay's picture: local price, index and mark, breaker states as bands, liquidations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

STATE_COLOURS = {"halted": "#d62728", "cooldown": "#ff7f0e", "auction": "#2ca02c"}


def _bands(times: list[float], states: list[str]) -> list[tuple[float, float, str]]:
    """Contiguous runs of a non-continuous state as (start, end, state)."""
    bands = []
    start = None
    current = None
    for t, state in zip(times, states, strict=True):
        if state != current:
            if current in STATE_COLOURS and start is not None:
                bands.append((start, t, current))
            start, current = t, state
    if current in STATE_COLOURS and start is not None and times:
        bands.append((start, times[-1], current))
    return bands


def plot(recorder: Any, report: dict, path: Path) -> None:
    """Draw one panel per market into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    engine = recorder.engine
    symbols = sorted(recorder.series) or sorted(engine.markets)
    fig, axes = plt.subplots(len(symbols) or 1, 1, figsize=(11, 4.8 * max(1, len(symbols))), squeeze=False)
    for ax, sym in zip(axes[:, 0], symbols, strict=False):
        s = recorder.series.get(sym, {"t": [], "local": [], "index": [], "mark": [], "state": []})
        scale = 10 ** engine.assets[engine.markets[sym].quote].decimals
        for key, label, style in (
            ("local", "local price (last trade)", {"color": "#1f77b4", "lw": 1.4}),
            ("index", "index", {"color": "#7f7f7f", "lw": 1.2, "ls": "--"}),
            ("mark", "mark", {"color": "#9467bd", "lw": 1.0, "ls": ":"}),
        ):
            pts = [(t, v / scale) for t, v in zip(s["t"], s[key], strict=True) if v is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], label=label, **style)
        for start, end, state in _bands(s["t"], s["state"]):
            ax.axvspan(start, end, color=STATE_COLOURS[state], alpha=0.15, lw=0)
        liq = [x for x in report["liquidations"] if x["symbol"] == sym]
        if liq:
            ax.scatter(
                [x["t"] for x in liq],
                [float(x["price"]) for x in liq],
                marker="v",
                color="black",
                zorder=5,
                label=f"liquidations ({len(liq)})",
            )
        for auction in report["auctions"]:
            if auction["symbol"] == sym and auction["price"] is not None:
                ax.scatter(
                    [auction["t"]], [float(auction["price"])], marker="*", s=140, color="#2ca02c", zorder=6
                )
        mode = "breaker on" if report.get("breaker_enabled", True) else "no breaker (naive)"
        ax.set_title(f"{sym} — {report.get('scenario', '')} — {mode}")
        ax.set_xlabel("scenario time (s)")
        ax.set_ylabel("price")
        ax.grid(alpha=0.3)
        handles, _ = ax.get_legend_handles_labels()
        handles += [Patch(color=colour, alpha=0.15, label=state) for state, colour in STATE_COLOURS.items()]
        ax.legend(handles=handles, loc="lower left", fontsize=8, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
