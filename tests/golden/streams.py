"""Seeded random command streams for the golden replays: spot and perps, leverage, index shocks.

Each stream is a pure function of its seed (``random.Random(seed)``, integers only): the same seed gives
the same wire dicts, byte for byte, on any machine. The mix is chosen so that a handful of seeds covers
what the engine does: limit/market/IOC/FOK/post-only orders with every STP mode, amends and cancels,
deposits and withdrawals (borrowing under margin), interest, perp settlement and funding, index moves
large enough to liquidate levered accounts (book, backstop, ADL, bad debt), breaker trips with their
call auctions, designated liquidity providers and treasury commands.
"""

from __future__ import annotations

import random

SPOT = "USDE-USDC"
PERP = "BTC-PERP"
ACCOUNTS = ("mm", "trader", "borrower", "whale", "small", "dlp")
STP = ("cancel_maker", "cancel_taker", "cancel_both", "decrement")


def _usde(price_e4: int) -> str:
    """A USDE-USDC price in 0.0001 ticks as a decimal string."""
    return f"{price_e4 // 10_000}.{price_e4 % 10_000:04d}"


def _lots(lots: int) -> str:
    """BTC-PERP size in 0.001 lots as a decimal string."""
    return f"{lots // 1000}.{lots % 1000:03d}"


def listing() -> list[dict]:
    """Assets, both markets, risk settings, deposits and resting liquidity (ts 0..)."""
    out = [
        {"cmd": "asset", "symbol": "USDC", "decimals": 6, "collateral_weight": "1"},
        {"cmd": "asset", "symbol": "USDE", "decimals": 18, "collateral_weight": "0.95"},
        {"cmd": "asset", "symbol": "BTC", "decimals": 8, "collateral_weight": "0"},
        {
            "cmd": "market",
            "symbol": SPOT,
            "kind": "spot",
            "base": "USDE",
            "quote": "USDC",
            "tick": "0.0001",
            "lot": "1",
            "band": "0.3",
            "impact": "0.2",
        },
        {
            "cmd": "market",
            "symbol": PERP,
            "kind": "perp",
            "base": "BTC",
            "quote": "USDC",
            "tick": "1",
            "lot": "0.001",
            "band": "0.3",
            "impact": "0.2",
        },
        # the streams post the index every few minutes: a source stays fresh for an hour (a stale
        # index is no index, and losing it halts the market)
        {
            "cmd": "risk_market",
            "symbol": PERP,
            "max_leverage": 50,
            "funding_interval": "60",
            "max_source_age": "3600",
        },
        {"cmd": "risk_market", "symbol": SPOT, "max_source_age": "3600"},
        {
            "cmd": "risk_params",
            "interest_interval": "10",
            "settle_interval": "10",
            "liquidation_buffer": "0.05",
        },
        {"cmd": "index", "symbol": SPOT, "source": "curve", "price": "0.9990"},
        {"cmd": "index", "symbol": PERP, "source": "spot", "price": "60000"},
        {"cmd": "deposit", "account": "mm", "asset": "USDC", "amount": "3000000"},
        {"cmd": "deposit", "account": "mm", "asset": "USDE", "amount": "3000000"},
        {"cmd": "deposit", "account": "trader", "asset": "USDC", "amount": "3000"},
        {"cmd": "deposit", "account": "borrower", "asset": "USDE", "amount": "20000"},
        {"cmd": "deposit", "account": "whale", "asset": "USDC", "amount": "200000"},
        {"cmd": "deposit", "account": "whale", "asset": "USDE", "amount": "50000"},
        {"cmd": "deposit", "account": "small", "asset": "USDC", "amount": "900"},
        {"cmd": "deposit", "account": "small", "asset": "USDE", "amount": "900"},
        {"cmd": "deposit", "account": "lender", "asset": "USDC", "amount": "100000"},
        {"cmd": "deposit", "account": "insurance", "asset": "USDC", "amount": "500"},
        {"cmd": "margin", "account": "borrower"},
        {"cmd": "margin", "account": "whale"},
        {"cmd": "margin", "account": "small"},
        {"cmd": "dlp", "account": "dlp"},
        {"cmd": "authorise", "account": "mm"},  # the market maker may quote during a halt (seed 004)
    ]
    for i in range(1, 6):
        out.append(_limit("mm", PERP, "buy", str(60_000 - 150 * i), _lots(300), f"mpb{i}"))
        out.append(_limit("mm", PERP, "sell", str(60_000 + 150 * i), _lots(300), f"mps{i}"))
        out.append(_limit("mm", SPOT, "buy", _usde(9990 - 40 * i), "5000", f"msb{i}"))
        out.append(_limit("mm", SPOT, "sell", _usde(9990 + 40 * i), "5000", f"mss{i}"))
    return out


def _limit(account: str, symbol: str, side: str, price: str, qty: str, cid: str | None = None, **kw) -> dict:
    d = {"cmd": "order", "account": account, "symbol": symbol, "side": side, "type": "limit"}
    d.update(price=price, qty=qty, **kw)
    if cid is not None:
        d["id"] = cid
    return d


def _requote(symbol: str, mid: int) -> list[dict]:
    """The market maker cancels its quotes and ladders five levels a side around ``mid``."""
    out = [{"cmd": "cancel_all", "account": "mm", "symbol": symbol}]
    for i in range(1, 6):
        if symbol == PERP:
            step = max(mid * 25 // 10_000, 1)
            out.append(_limit("mm", PERP, "buy", str(mid - step * i), _lots(300)))
            out.append(_limit("mm", PERP, "sell", str(mid + step * i), _lots(300)))
        else:
            out.append(_limit("mm", SPOT, "buy", _usde(max(mid - 40 * i, 1)), "5000"))
            out.append(_limit("mm", SPOT, "sell", _usde(mid + 40 * i), "5000"))
    return out


def stream(seed: int, steps: int = 400) -> list[dict]:
    """The listing, then ``steps`` random commands, each with an integer ``ts`` (ms)."""
    rng = random.Random(seed)
    lines = listing()
    index = {SPOT: 9990, PERP: 60_000}  # USDE in 0.0001 ticks, BTC in whole USDC
    open_ids: dict[str, list[str]] = {a: [] for a in ACCOUNTS}
    n = 0
    pause_left = 0
    for _ in range(steps):
        if pause_left:
            pause_left -= 1
            if not pause_left:
                lines.append({"cmd": "protocol", "withdrawals_paused": False, "risk_paused": False})
        roll = rng.randrange(100)
        acct = rng.choice(ACCOUNTS)
        side = rng.choice(("buy", "sell"))
        if roll < 28:  # perp limit order
            n += 1
            cid = f"p{n}"
            price = index[PERP] * (10_000 + rng.randint(-300, 300)) // 10_000
            kw = {"tif": rng.choice(("GTC", "GTC", "IOC", "FOK"))}
            if rng.randrange(6) == 0:
                kw["stp"] = rng.choice(STP)
            if rng.randrange(10) == 0:
                kw["reduce_only"] = True
            if rng.randrange(10) == 0 and kw["tif"] == "GTC":
                kw["post_only"] = True
            lines.append(_limit(acct, PERP, side, str(price), _lots(rng.randint(1, 800)), cid, **kw))
            open_ids[acct].append(cid)
        elif roll < 50:  # spot limit order
            n += 1
            cid = f"s{n}"
            price = index[SPOT] * (10_000 + rng.randint(-300, 300)) // 10_000
            kw = {"tif": rng.choice(("GTC", "GTC", "IOC"))}
            if rng.randrange(6) == 0:
                kw["stp"] = rng.choice(STP)
            if rng.randrange(8) == 0:
                kw["api"] = True
            lines.append(_limit(acct, SPOT, side, _usde(price), str(rng.randint(1, 30_000)), cid, **kw))
            open_ids[acct].append(cid)
        elif roll < 55:  # market order
            symbol = rng.choice((SPOT, PERP))
            qty = _lots(rng.randint(1, 500)) if symbol == PERP else str(rng.randint(1, 20_000))
            lines.append(
                {
                    "cmd": "order",
                    "account": acct,
                    "symbol": symbol,
                    "side": side,
                    "type": "market",
                    "qty": qty,
                }
            )
        elif roll < 60 and open_ids[acct]:  # cancel
            lines.append({"cmd": "cancel", "account": acct, "id": rng.choice(open_ids[acct])})
        elif roll < 64 and open_ids[acct]:  # amend
            cid = rng.choice(open_ids[acct])
            if cid.startswith("p"):
                change = {"price": str(index[PERP] * (10_000 + rng.randint(-200, 200)) // 10_000)}
            else:
                change = {"qty": str(rng.randint(1, 30_000))}
            lines.append({"cmd": "amend", "account": acct, "id": cid, **change})
        elif roll < 66:
            lines.append({"cmd": "cancel_all", "account": acct})
        elif roll < 70:  # withdraw (a borrow under margin)
            asset = rng.choice(("USDC", "USDE"))
            lines.append(
                {"cmd": "withdraw", "account": acct, "asset": asset, "amount": str(rng.randint(1, 30_000))}
            )
        elif roll < 73:
            asset = rng.choice(("USDC", "USDE"))
            lines.append(
                {"cmd": "deposit", "account": acct, "asset": asset, "amount": str(rng.randint(1, 50_000))}
            )
        elif roll < 85:  # index move, now and then a shock
            symbol = rng.choice((SPOT, PERP))
            move = (
                rng.randint(-150, 150) if rng.randrange(12) else rng.choice((-1, 1)) * rng.randint(500, 1500)
            )
            index[symbol] = max(index[symbol] * (10_000 + move) // 10_000, 1)
            price = _usde(index[symbol]) if symbol == SPOT else str(index[symbol])
            lines.append(
                {
                    "cmd": "index",
                    "symbol": symbol,
                    "source": "curve" if symbol == SPOT else "spot",
                    "price": price,
                }
            )
            if rng.randrange(10) < 7:  # the market maker follows the index (the breaker stays calm)
                lines.extend(_requote(symbol, index[symbol]))
        elif roll < 88:  # a levered trader walks the perp book
            price = index[PERP] * (10_000 + (300 if side == "buy" else -300)) // 10_000
            lines.append(_limit("trader", PERP, side, str(price), _lots(rng.randint(100, 2500)), tif="IOC"))
        elif roll < 89 and rng.randrange(3) == 0:
            symbol = rng.choice((SPOT, PERP))
            lines.append({"cmd": rng.choice(("halt", "resume")), "symbol": symbol})
        elif roll < 90:
            symbol = rng.choice((SPOT, PERP))
            lines.append(
                {"cmd": "dlp_deposit", "account": "dlp", "symbol": symbol, "asset": "USDC", "amount": "10000"}
            )
        elif roll < 91:  # a short protocol pause
            lines.append(
                {"cmd": "protocol", "withdrawals_paused": True, "risk_paused": rng.randrange(2) == 0}
            )
            pause_left = rng.randint(1, 6)
        else:  # time passes
            lines.append({"cmd": "tick"})
    ts = 0
    out = []
    for line in lines:
        ts += rng.choice((1, 250, 1_000, 1_000, 5_000, 30_000))
        out.append({"ts": ts, **line})
    return out
