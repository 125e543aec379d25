"""Reserve stress test: `python -m offchain stress --deployment FILE [--rpc URL]`.

Replays withdrawal runs against what the chain holds now — Custody's hot balance, the cold wallet
(Safe) balance, the attested liabilities, Custody's outflow limits (per user and global, rolling
window) — with the daemon's hot/cold band and the cold wallet's signing latency, and prints per
token and scenario how much is paid in time, how much waits, and when each guard engages:

* `run30`: 30 % of liabilities withdrawn in one hour by many users (seed 000's bank run);
* `whale`: one holder asks for `--whale-bps` of liabilities at once (it can take at most the
  per-user cap per window: the rest waits off-chain).

The model, one step a minute: requests pay in arrival order while the user's limit, the global
limit and the hot balance allow; a request over the global limit or the hot balance is held and
holds every later one (Custody's FIFO queue), one over its user's limit waits without blocking
others. When the free hot share drops below the band or the held demand exceeds the hot balance, a
cold -> hot SafeTx is proposed; it lands `--multisig-latency` seconds later (the owners' signing).
Guards reported: the global outflow limit (ERC-7265 style: withdrawals held, nothing halts), the
early warning's bank-run alert (window demand + held > `bank_run_bps` of hot), and the solvency
breaker (`ReserveRegistry.check_solvency`: reserves below liabilities, which trips Custody).

`simulate` is pure (tests/chain/test_stress.py); `run` reads the chain.
"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

MINUTE = 60
HOUR = 3600
BPS = 10_000


@dataclass(frozen=True)
class Reserves:
    """One token's state and limits (atoms, seconds)."""

    symbol: str
    decimals: int
    hot: int
    cold: int
    liabilities: int
    account_cap: int
    global_cap: int
    window_s: int
    global_used: int = 0  # global outflow already counted in the current window


@dataclass(frozen=True)
class Scenario:
    name: str
    requests: list[tuple[int, str, int]]  # (t seconds, user, amount atoms)
    description: str


def run30(res: Reserves, users: int = 600, share_bps: int = 3_000, over_s: int = HOUR) -> Scenario:
    """`share_bps` of liabilities withdrawn by `users` equal requests spread evenly over `over_s`."""
    total = res.liabilities * share_bps // BPS
    each = max(total // users, 1)
    reqs = [(i * over_s // users, f"u{i}", each) for i in range(users)]
    return Scenario(
        "run30", reqs, f"{share_bps / 100:.0f} % of liabilities in {over_s // 60} min by {users} users"
    )


def whale(res: Reserves, share_bps: int = 1_000) -> Scenario:
    """One holder exits with `share_bps` of liabilities at t=0, in pieces of at most its cap."""
    total = res.liabilities * share_bps // BPS
    piece = max(min(res.account_cap, total), 1)
    reqs = []
    while total > 0:
        reqs.append((0, "whale", min(piece, total)))
        total -= piece
    return Scenario("whale", reqs, f"one holder exits with {share_bps / 100:.0f} % of liabilities")


@dataclass
class Result:
    scenario: str
    symbol: str
    demand: int = 0
    paid_in_hour: int = 0
    paid: int = 0
    waiting: int = 0
    max_wait_s: int = 0
    cold_to_hot: int = 0
    events: list[tuple[int, str]] = field(default_factory=list)
    series: list[tuple[int, int, int, int]] = field(default_factory=list)  # (t, demanded, paid, hot)

    def first(self, what: str) -> int | None:
        return next((t for t, e in self.events if e == what), None)


def simulate(
    res: Reserves,
    scenario: Scenario,
    *,
    latency_s: int = 30 * MINUTE,
    band: tuple[int, int] = (6_000, 7_000),
    horizon_s: int = 24 * HOUR,
    bank_run_bps: int = 6_000,
    alert_window_s: int = 600,
) -> Result:
    """Replay `scenario` minute by minute (module docstring); pure."""
    out = Result(scenario.name, res.symbol)
    hot, cold, liabilities = res.hot, res.cold, res.liabilities
    target_bps = (band[0] + band[1]) // 2
    global_out: deque[tuple[int, int]] = deque([(0, res.global_used)] if res.global_used else [])
    user_out: dict[str, deque[tuple[int, int]]] = {}
    arrivals = sorted(scenario.requests)
    pending: list[tuple[int, str, int]] = []
    recent: deque[tuple[int, int]] = deque()  # (t, amount) of requests in the alert window
    in_flight: tuple[int, int] | None = None  # (lands at, amount)
    next_arrival = 0
    demanded = paid = 0
    for t in range(0, horizon_s + 1, MINUTE):
        while next_arrival < len(arrivals) and arrivals[next_arrival][0] <= t:
            req = arrivals[next_arrival]
            pending.append(req)
            recent.append((req[0], req[2]))
            demanded += req[2]
            next_arrival += 1
        if in_flight and in_flight[0] <= t:
            hot += in_flight[1]
            out.events.append((t, "cold_to_hot_landed"))
            in_flight = None
        _expire(global_out, t - res.window_s)
        global_room = res.global_cap - sum(a for _, a in global_out)
        still: list[tuple[int, str, int]] = []
        blocked = False
        for req in pending:
            at, user, amount = req
            outs = user_out.setdefault(user, deque())
            _expire(outs, t - res.window_s)
            user_room = res.account_cap - sum(a for _, a in outs)
            if amount > user_room:
                still.append(req)  # the user's limit: waits, blocks nobody
                continue
            if blocked or amount > global_room or amount > hot:
                if not blocked:
                    out.events.append((t, "global_limit" if amount > global_room else "hot_exhausted"))
                blocked = True
                still.append(req)
                continue
            hot -= amount
            liabilities -= amount
            global_room -= amount
            global_out.append((t, amount))
            outs.append((t, amount))
            paid += amount
            if at >= 0 and t - at <= HOUR and t <= HOUR:
                out.paid_in_hour += amount
            out.max_wait_s = max(out.max_wait_s, t - at)
        pending = still
        held = sum(r[2] for r in pending)
        while recent and recent[0][0] <= t - alert_window_s:
            recent.popleft()
        if hot > 0 and (sum(a for _, a in recent) + held) * BPS > bank_run_bps * hot:
            out.events.append((t, "bank_run_alert"))
        elif hot == 0 and held:
            out.events.append((t, "bank_run_alert"))
        if hot + cold + (in_flight[1] if in_flight else 0) < liabilities:
            out.events.append((t, "solvency_trip"))
        # The rebalancer: below the band, or held demand above the hot balance -> propose cold -> hot.
        free_share = hot * BPS // liabilities if liabilities > 0 else BPS
        if in_flight is None and cold > 0 and (free_share < band[0] or held > hot):
            want = max(liabilities * target_bps // BPS - hot, held - hot, 0)
            amount = min(cold, want)
            if amount > 0:
                cold -= amount
                out.cold_to_hot += amount
                in_flight = (t + latency_s, amount)
                out.events.append((t, "cold_to_hot_proposed"))
        out.series.append((t, demanded, paid, hot))
        if next_arrival == len(arrivals) and not pending and in_flight is None and t > HOUR:
            break
    out.demand, out.paid = demanded, paid
    out.waiting = sum(r[2] for r in pending)
    for t, _, _amount in pending:
        out.max_wait_s = max(out.max_wait_s, horizon_s - t)
    return out


def _expire(outs: deque[tuple[int, int]], before: int) -> None:
    while outs and outs[0][0] <= before:
        outs.popleft()


def report(res: Reserves, result: Result, description: str) -> list[str]:
    u = 10**res.decimals

    def amt(atoms: int) -> str:
        return f"{atoms / u:,.0f} {res.symbol}"

    def when(t: int | None) -> str:
        return "never" if t is None else f"t+{t // 60} min"

    lines = [
        f"{res.symbol} {result.scenario}: {description}",
        f"  demand {amt(result.demand)}; paid within the hour {amt(result.paid_in_hour)}"
        f" ({_share(result.paid_in_hour, result.demand)}); paid in all {amt(result.paid)}; still waiting {amt(result.waiting)}",
        f"  longest wait {result.max_wait_s // 60} min; cold -> hot {amt(result.cold_to_hot)}",
        f"  global outflow limit holds withdrawals: {when(result.first('global_limit'))}; hot exhausted:"
        f" {when(result.first('hot_exhausted'))}; bank-run alert: {when(result.first('bank_run_alert'))};"
        f" solvency breaker trips: {when(result.first('solvency_trip'))}",
    ]
    return lines


def _share(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f} %" if whole else "-"


def plot(results: list[tuple[Reserves, Result]], path: Path) -> None:
    """Cumulative demand and payments (and the hot balance) per scenario, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.2), squeeze=False)
    for ax, (res, r) in zip(axes[0], results, strict=True):
        u = 10**res.decimals
        hours = [t / HOUR for t, *_ in r.series]
        ax.plot(hours, [d / u for _, d, _, _ in r.series], label="requested", color="#d62728")
        ax.plot(hours, [p / u for _, _, p, _ in r.series], label="paid", color="#2ca02c")
        ax.plot(hours, [h / u for *_, h in r.series], label="hot balance", color="#1f77b4", linestyle="--")
        for t, what in r.events:
            if what == "cold_to_hot_landed":
                ax.axvline(t / HOUR, color="#9467bd", alpha=0.4, linewidth=1)
        ax.set_title(f"{res.symbol} {r.scenario}")
        ax.set_xlabel("hours (purple: a cold -> hot SafeTx lands)")
        ax.set_ylabel(res.symbol)
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- the program -----------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--deployment", required=True, type=Path, help="deployment file (deployments/<chain>.json)"
    )
    parser.add_argument("--rpc", default="http://127.0.0.1:8545", help="JSON-RPC URL (default the devnet)")
    parser.add_argument(
        "--token", action="append", help="token symbol to test (default: every deployment token)"
    )
    parser.add_argument(
        "--run-bps", type=int, default=3_000, help="run size, bps of liabilities (default 30 %%)"
    )
    parser.add_argument("--run-minutes", type=int, default=60, help="how long the run lasts (default 60)")
    parser.add_argument(
        "--whale-bps", type=int, default=1_000, help="whale exit, bps of liabilities (default 10 %%)"
    )
    parser.add_argument(
        "--multisig-latency", type=int, default=1_800, help="seconds to collect Safe signatures"
    )
    parser.add_argument("--liabilities", action="append", default=[], help="SYMBOL=WHOLE_UNITS override")
    parser.add_argument("--plot", type=Path, help="write a PNG of the first token's scenarios")


def run(args: argparse.Namespace) -> int:
    try:
        reserves = read_reserves(args.deployment, args.rpc, args.token, _overrides(args.liabilities))
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    plotted: list[tuple[Reserves, Result]] = []
    for res in reserves:
        u = 10**res.decimals
        print(
            f"{res.symbol}: hot {res.hot / u:,.0f}, cold {res.cold / u:,.0f}, liabilities {res.liabilities / u:,.0f}"
            f" (hot share {_share(res.hot, res.liabilities)}); caps: user {res.account_cap / u:,.0f},"
            f" global {res.global_cap / u:,.0f} per {res.window_s // 3600} h; multisig latency {args.multisig_latency // 60} min"
        )
        if res.liabilities <= 0:
            print("  no liabilities: nothing to run")
            continue
        for scenario in (
            run30(res, share_bps=args.run_bps, over_s=args.run_minutes * 60),
            whale(res, args.whale_bps),
        ):
            result = simulate(res, scenario, latency_s=args.multisig_latency)
            print("\n".join(report(res, result, scenario.description)))
            if not plotted or plotted[0][0].symbol == res.symbol:
                plotted.append((res, result))
    if args.plot and plotted:
        plot(plotted, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _overrides(values: list[str]) -> dict[str, int]:
    out = {}
    for v in values:
        symbol, sep, whole = v.partition("=")
        if not sep or not whole.isdigit():
            raise SystemExit(f"--liabilities must look like SYMBOL=WHOLE_UNITS, got {v!r}")
        out[symbol.upper()] = int(whole)
    return out


def read_reserves(
    deployment: Path, rpc: str, symbols: list[str] | None, overrides: dict[str, int]
) -> list[Reserves]:
    """Each token's hot, cold, attested liabilities and Custody limits, read from the chain now."""
    from web3 import Web3

    from offchain.chain.deployment import Deployment
    from offchain.chain.protocol import Protocol

    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 10}))
    protocol = Protocol(w3, Deployment.load(path=deployment))
    custody = protocol.contract("Custody")
    registry = protocol.contract("ReserveRegistry")
    colds = [
        custody.functions.cold_wallets(i).call() for i in range(custody.functions.cold_wallets_count().call())
    ]
    out = []
    for token in protocol.tokens.values():
        if symbols and token.symbol not in symbols:
            continue
        erc20 = protocol.token_contract(token.symbol)
        hot = int(erc20.functions.balanceOf(custody.address).call())
        cold = sum(int(erc20.functions.balanceOf(c).call()) for c in colds)
        liabilities = int(registry.functions.liabilities(token.address).call())
        if token.symbol in overrides:
            liabilities = overrides[token.symbol] * 10**token.decimals
        elif liabilities == 0:
            liabilities = hot + cold  # nothing attested yet: a fully reserved book of what is held
        _, account_cap, global_cap, window = custody.functions.tokens(token.address).call()
        if window == 0:
            continue  # not a Custody token
        headroom = int(custody.functions.global_headroom(token.address).call())
        out.append(
            Reserves(
                token.symbol,
                token.decimals,
                hot,
                cold,
                liabilities,
                int(account_cap),
                int(global_cap),
                int(window),
                max(int(global_cap) - headroom, 0),
            )
        )
    return out
