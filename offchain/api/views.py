"""Read-only JSON views of the engine for the API and the WebSocket stream.

Every amount leaves here as a decimal string in whole units (`"0.999"`, `"1500.25"`), scaled with
the engine's registry (`codec.format_*`); ratios stay integers with their unit in the name
(`*_ppm`, `*_bps`). Call these under the service lock (`service.read`) so that what they read
belongs to one instant; they never change engine state.
"""

from __future__ import annotations

from typing import Any

from offchain.chain.early_warning import GAUGES
from offchain.core.breaker.readmodel import BreakerReadModel
from offchain.core.breaker.rule import Metrics
from offchain.core.messages.codec import format_price, format_qty, format_units
from offchain.core.risk.lending import utilisation_ppm
from offchain.core.units import PPM, mid_or_none

DEFAULT_DEPTH = 20
RATES_TTL_MS = 5_000
SAFE_JSON_INT = 2**53  # larger integers lose precision in JavaScript: sent as strings


def module(engine: Any, name: str) -> Any:
    """Return the engine module called `name`, or None."""
    for m in engine.modules:
        if getattr(m, "name", None) == name:
            return m
    return None


def units(engine: Any, asset: str, atoms: int | None) -> str | None:
    """Return an amount of `asset` atoms as a decimal string."""
    if atoms is None:
        return None
    a = engine.assets.get(asset)
    return format_units(atoms, a.decimals) if a else str(atoms)


def price(engine: Any, symbol: str, value: int | None) -> str | None:
    return None if value is None else format_price(engine, symbol, value)


def qty(engine: Any, symbol: str, value: int | None) -> str | None:
    return None if value is None else format_qty(engine, symbol, value)


def mid_of(book: Any) -> int | None:
    return mid_or_none(book.best_bid(), book.best_ask())


# -- markets and books ------------------------------------------------------------------------------
def market_view(engine: Any, market: Any) -> dict:
    """A market's parameters, trading state and prices."""
    s = market.symbol
    book = market.book
    return {
        "symbol": s,
        "kind": market.kind,
        "base": market.base,
        "quote": market.quote,
        "tick": price(engine, s, market.tick),
        "lot": qty(engine, s, market.lot),
        "min_qty": qty(engine, s, market.min_qty),
        "band_bps": market.band_bps,
        "impact_bps": market.impact_bps,
        "state": market.state,
        "best_bid": price(engine, s, book.best_bid()),
        "best_ask": price(engine, s, book.best_ask()),
        "mid": price(engine, s, mid_of(book)),
        "last_price": price(engine, s, market.last_price),
        "index_price": price(engine, s, market.index_price),
        "mark_price": price(engine, s, market.mark_price),
        "index_sources": {src: price(engine, s, p) for src, p in sorted(market.index_sources.items())},
    }


def levels(engine: Any, symbol: str, pairs: list[tuple[int, int]]) -> list[list[str]]:
    return [[price(engine, symbol, p), qty(engine, symbol, q)] for p, q in pairs]


def book_view(engine: Any, market: Any, depth: int = DEFAULT_DEPTH) -> dict:
    """The aggregated book: `[price, qty]` per level, best first."""
    s = market.symbol
    book = market.book
    return {
        "symbol": s,
        "state": market.state,
        "bids": levels(engine, s, book.depth(True, depth)),
        "asks": levels(engine, s, book.depth(False, depth)),
        "mid": price(engine, s, mid_of(book)),
        "crossed": book.is_crossed(),
    }


def order_view(engine: Any, order: Any) -> dict:
    """One open order."""
    s = order.symbol
    return {
        "oid": order.oid,
        "client_id": order.client_id,
        "account": order.owner,
        "symbol": s,
        "side": order.side,
        "type": order.type,
        "price": price(engine, s, order.price),
        "qty": qty(engine, s, order.qty),
        "filled": qty(engine, s, order.filled),
        "tif": order.tif,
        "post_only": order.post_only,
        "reduce_only": order.reduce_only,
        "ts": order.ts,
    }


def find_order(engine: Any, oid: int) -> Any:
    """Return the open order with engine id `oid` in any market, or None."""
    for market in engine.markets.values():
        order = market.book.get(oid)
        if order is not None:
            return order
    return None


# -- accounts -----------------------------------------------------------------------------------------
class PoolRates:
    """Each lending pool's utilisation and annual rates, recomputed at most every `ttl_ms`.

    A pool's utilisation sums every account's balance of its asset: too slow to redo on every
    account read under the sequencer lock, cheap every few seconds. Call `get` under the lock.
    """

    def __init__(self, ttl_ms: int = RATES_TTL_MS) -> None:
        self.ttl_ms = ttl_ms
        self._at: int | None = None
        self._rates: dict[str, dict] = {}

    def get(self, engine: Any, now_ms: int) -> dict[str, dict]:
        if self._at is None or not 0 <= now_ms - self._at < self.ttl_ms:
            self._rates = pool_rates(engine, now_ms)
            self._at = now_ms
        return self._rates


def pool_rates(engine: Any, now_ms: int) -> dict[str, dict]:
    """Per lending pool: supplied, borrowed, utilisation and the annual borrow and supply rates (ppm)."""
    risk = module(engine, "risk")
    if risk is None:
        return {}
    out = {}
    for asset in sorted(risk.pools):
        pool = risk.pools[asset]
        supplied, borrowed = risk.pool_totals(asset)
        utilisation = utilisation_ppm(supplied, borrowed)
        out[asset] = {
            "supplied": units(engine, asset, supplied),
            "borrowed": units(engine, asset, borrowed),
            "utilisation_ppm": utilisation,
            "borrow_apr_ppm": pool.model.borrow_rate_ppm(utilisation),
            "supply_apr_ppm": pool.model.supply_rate_ppm(utilisation),
            "as_of": now_ms,
        }
    return out


def account_view(engine: Any, name: str, rates: dict[str, dict] | None = None) -> dict:
    """Balances, lending, borrows, positions, margin and open orders of one account.

    `rates` (`PoolRates.get`) adds each pool's utilisation and the rate the account earns or pays.
    """
    acct = engine.accounts.get(name)
    risk = module(engine, "risk")
    out: dict[str, Any] = {
        "account": name,
        "exists": acct is not None,
        "balances": {},
        "lending": {},
        "borrows": {},
        "positions": {},
        "margin": None,
        "open_orders": [],
    }
    if acct is None:
        return out
    for asset in sorted(set(acct.balance) | set(acct.held)):
        bal, held = acct.balance.get(asset, 0), acct.held.get(asset, 0)
        out["balances"][asset] = {
            "balance": units(engine, asset, bal),
            "held": units(engine, asset, held),
            "free": units(engine, asset, bal - held),
        }
        pool = risk.pools.get(asset) if risk is not None else None
        if pool is None:
            continue
        rate = (rates or {}).get(asset)
        if bal > 0 and pool.supplies(name, bal):
            out["lending"][asset] = {"supplied": units(engine, asset, bal)}
            if rate:
                out["lending"][asset].update(_rate(rate, "supply_apr_ppm"))
        elif bal < 0:
            out["borrows"][asset] = {"borrowed": units(engine, asset, -bal)}
            if rate:
                out["borrows"][asset].update(_rate(rate, "borrow_apr_ppm"))
    if risk is not None:
        out["positions"] = _positions(engine, risk, name)
        out["margin"] = _margin(engine, risk, name)
    if risk is not None:  # the auto-lend choice per asset (on by default; `POST .../lending` turns it off)
        out["lend"] = {asset: name not in pool.opted_out for asset, pool in sorted(risk.pools.items())}
    out["open_orders"] = [order_view(engine, o) for o in engine.open_orders(name)]
    return out


def _rate(rate: dict, field: str) -> dict:
    return {"apr_ppm": rate[field], "utilisation_ppm": rate["utilisation_ppm"], "rates_as_of": rate["as_of"]}


def withdrawals_view(engine: Any, name: str, limit: int | None = None) -> list[dict]:
    """An account's withdrawals, newest first, as the treasury module records them."""
    treasury = module(engine, "treasury")
    if treasury is None:
        return []
    return [
        {**w, "amount": units(engine, w["asset"], w["amount"])} for w in treasury.withdrawals_of(name)[:limit]
    ]


def _positions(engine: Any, risk: Any, name: str) -> dict:
    out = {}
    policy = engine.risk
    for symbol, pos in sorted(risk.positions_of(name).items()):
        market = engine.markets[symbol]
        quote = market.quote
        mark = market.mark_price
        liq = None
        if hasattr(policy, "liquidation_price") and pos.qty:
            try:
                liq = policy.liquidation_price(name, symbol)
            except (KeyError, ValueError, ZeroDivisionError):
                liq = None
        out[symbol] = {
            "qty": format_units(pos.qty, engine.assets[market.base].decimals),
            "entry": price(engine, symbol, pos.entry),
            "mark": price(engine, symbol, mark),
            "upnl": units(engine, quote, pos.upnl(mark, market.unit)) if mark else None,
            "notional": units(engine, quote, pos.notional(mark, market.unit)) if mark else None,
            "liquidation_price": price(engine, symbol, liq),
        }
    return out


def _margin(engine: Any, risk: Any, name: str) -> dict:
    settle = risk.config.settlement_asset
    h = risk.health(name)
    return {
        "asset": settle,
        "spot_margin": risk.margin_enabled(name),
        "equity": units(engine, settle, h.equity),
        "collateral": units(engine, settle, h.collateral),
        "borrows": units(engine, settle, h.borrows),
        "upnl": units(engine, settle, h.upnl),
        "initial": units(engine, settle, h.initial),
        "maintenance": units(engine, settle, h.maintenance),
        "free": units(engine, settle, h.free),
        "below_maintenance": h.below_maintenance,
    }


# -- the breaker ----------------------------------------------------------------------------------------
# metric -> (trip threshold field, trips when above?, recovery threshold field or None)
METRICS = {
    "cvd": ("cvd_trip_ppm", True, "cvd_recover_ppm"),
    "rl": ("rl_trip_ppm", False, "rl_recover_ppm"),
    "si": ("si_trip_ppm", True, None),
    "vp": ("vp_trip_ppm", True, None),
    "lce": ("lce_trip_ppm", True, "lce_safe_ppm"),
}


def live_metrics(engine: Any, breaker_module: Any, market: Any, ts: int) -> dict:
    """The five metrics of a market now, in ppm (None: not measurable), without changing state
    (the breaker's read model probes a detached copy of its windows)."""
    m = BreakerReadModel(breaker_module, engine).live_metrics(market.symbol, ts)
    if m is None:
        return dict.fromkeys(METRICS)
    return {"cvd": m.cvd_ppm, "rl": m.rl_ppm, "si": m.si_ppm, "vp": m.vp_ppm, "lce": m.lce_ppm}


def breaker_view(engine: Any, market: Any, ts: int, last: dict | None = None) -> dict:
    """A market's breaker: state, why, since when, and each metric against its thresholds.

    `last` is the market's last `breaker` event, if known: its metrics are shown as `at_transition_ppm`.
    """
    bm = module(engine, "breaker")
    symbol = market.symbol
    if bm is None:
        return {"enabled": False, "state": market.state, "metrics": {}}
    breaker = bm.breakers.get(symbol)
    params = breaker.params if breaker is not None else bm.default_params
    values = live_metrics(engine, bm, market, ts)
    recorded = (last or {}).get("metrics") or {}
    metrics = {}
    for name, (trip_field, above, recover_field) in METRICS.items():
        value = values.get(name)
        trip = getattr(params, trip_field)
        recover = getattr(params, recover_field) if recover_field else None
        beyond = value is not None and (value > trip if above else value < trip)
        if recover is None or value is None:
            recovered = None
        else:
            recovered = value < recover if above else value > recover
        then = recorded.get(f"{name}_ppm")
        metrics[name] = {
            "value_ppm": value,
            # None: no reading; "book_too_thin": S_I's reference market order does not fill, so it
            # reads 100 % (the breaker counts that as beyond its threshold: fail safe)
            "note": _metric_note(name, value),
            "at_transition_ppm": then,
            "beyond_trip_at_transition": then is not None and (then > trip if above else then < trip),
            "trip_ppm": trip,
            "trips_when": "above" if above else "below",
            "recover_ppm": recover,
            "beyond_trip": beyond,
            "recovered": recovered,
        }
    metrics["si"]["reference_notional"] = str(params.si_notional_units)
    frozen = bm.frozen.get(symbol)
    waiting: list[str] = []
    if breaker is not None and breaker.state == "halted":
        # what a halted market waits for (fail safe: an unmeasurable metric is not a recovery)
        measured = Metrics(**{f"{n}_ppm": values.get(n) for n in METRICS})
        waiting = breaker.recovery_blockers(measured)
        if breaker.manual:
            waiting = ["operator_resume"]
        elif ts < breaker.halt_until:
            waiting = ["halt_window", *waiting]
    return {
        "enabled": params.enabled,
        "waiting_for": waiting,
        "state": breaker.state if breaker else market.state,
        "reason": breaker.reason if breaker else "",
        "since": breaker.since if breaker else None,
        "manual": breaker.manual if breaker else False,
        "halt_until": breaker.halt_until if breaker and breaker.state == "halted" else None,
        "next_deadline": breaker.next_deadline() if breaker else None,
        "frozen_mark": price(engine, symbol, frozen),
        "halt_window_ms": params.halt_window_ms,
        "last_transition": None
        if not last
        else {k: last[k] for k in ("ts", "from_state", "to_state", "reason") if k in last},
        "metrics": metrics,
    }


def _metric_note(name: str, value: int | None) -> str | None:
    if value is None:
        return "unmeasurable"
    if name == "si" and value >= PPM:
        return "book_too_thin"
    return None


# -- the status page --------------------------------------------------------------------------------------
def insurance_view(engine: Any) -> dict:
    """The insurance fund's off-chain account (backstop, liquidation fees), per asset."""
    risk = module(engine, "risk")
    name = risk.config.insurance_account if risk is not None else "insurance"
    acct = engine.accounts.get(name)
    balances = {}
    if acct is not None:
        balances = {a: units(engine, a, v) for a, v in sorted(acct.balance.items()) if v}
    bad_debt = {}
    if risk is not None:
        bad_debt = {a: units(engine, a, v) for a, v in sorted(risk.bad_debt.items()) if v}
    return {"account": name, "balances": balances, "bad_debt": bad_debt}


def status_view(service: Any, ts: int, transitions: dict | None = None) -> dict:
    """Everything the dashboard shows but the books: breaker per market, chain, reserves, insurance.

    `transitions`: the last `breaker` event per market (`stream.BreakerLog`), when known.
    """
    engine = service.engine
    markets = {}
    for symbol, market in sorted(engine.markets.items()):
        entry = market_view(engine, market)
        entry["breaker"] = breaker_view(engine, market, ts, (transitions or {}).get(symbol))
        markets[symbol] = entry
    chain = chain_view(engine, dict(service.chain_status))
    return {
        "ts": ts,
        "engine_ts": engine.now,
        "seq": service.runner.seq,
        "markets": markets,
        "chain": chain,
        "insurance": insurance_view(engine),
        "por": json_safe(service.por_epoch()),
        "alerts": json_safe(list(service.alerts)[-20:]),
    }


def chain_view(engine: Any, chain: dict) -> dict:
    """The chain watcher's readings with their token amounts (integer atoms) as decimal strings.

    Keys the watcher reports (`offchain.chain.watcher`): `pool` {market, index_price, price_oracle,
    reserves, halted}, `reserves` {SYMBOL: {reserves, liabilities, ratio_bps, hot}}, `hot`
    {SYMBOL: atoms}, `attestation` {epoch, fresh, age_s, root, leaf_count}, `insurance_fund`
    {assets, cover_headroom, frozen} (a USDC vault), `paused`, `block`, `early_warning` {assets: {SYMBOL:
    {gauge: atoms, count or bps}}, gauges, thresholds, window_s, active, counters}.
    """
    out = json_safe(chain)

    def amount(asset: str, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and asset in engine.assets:
            return units(engine, asset, value)
        return json_safe(value)

    pool = chain.get("pool")
    if isinstance(pool, dict):
        market = pool.get("market")
        if isinstance(market, str) and market in engine.markets and isinstance(pool.get("index_price"), int):
            out["pool"]["symbol"] = market
            out["pool"]["price"] = price(engine, market, pool["index_price"])
    reserves = chain.get("reserves")
    if isinstance(reserves, dict):
        for asset, entry in reserves.items():
            if isinstance(entry, dict):
                out["reserves"][asset] = {
                    k: (amount(asset, v) if k in ("reserves", "liabilities", "hot") else json_safe(v))
                    for k, v in entry.items()
                }
    hot = chain.get("hot")
    if isinstance(hot, dict):
        out["hot"] = {asset: amount(asset, v) for asset, v in hot.items()}
    fund = chain.get("insurance_fund")
    if isinstance(fund, dict) and "assets" in fund:
        risk = module(engine, "risk")
        settle = risk.config.settlement_asset if risk is not None else "USDC"
        out["insurance_fund"] = {
            k: (amount(settle, v) if k in ("assets", "cover_headroom") else json_safe(v))
            for k, v in fund.items()
        }
        out["insurance_fund"]["asset"] = settle
    warning = chain.get("early_warning")
    if isinstance(warning, dict) and isinstance(warning.get("assets"), dict):
        figures = {
            asset: {
                gauge: (amount(asset, v) if GAUGES.get(gauge, ("",))[0] == "atoms" else json_safe(v))
                for gauge, v in entry.items()
            }
            for asset, entry in warning["assets"].items()
            if isinstance(entry, dict)
        }
        out["early_warning"]["assets"] = figures
        out["early_warning"]["gauges"] = {
            f"{gauge}_{asset}": v for asset, entry in figures.items() for gauge, v in entry.items()
        }
    return out


def json_safe(value: Any) -> Any:
    """Copy chain readings for JSON: bytes as 0x-hex, floats and huge integers as strings."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if abs(value) < SAFE_JSON_INT else str(value)
    return str(value)


# -- events ------------------------------------------------------------------------------------------------
# Integer fields of events, by the unit they are in.
_PRICE = {"price", "index_price", "reference", "mark", "entry"}
_QTY = {"qty", "remaining", "volume", "surplus", "bid_depth", "ask_depth"}
_QUOTE = {"maker_fee", "taker_fee", "quote_open", "net", "paid"}
_ASSET = {"amount", "balance", "held", "paid", "lenders", "protocol"}
_SETTLE = {"equity", "maintenance", "initial"}


def format_event(engine: Any, event: dict) -> dict:
    """Return an event dict (`codec.event_to_dict`) with its amounts as decimal strings."""
    out = dict(event)
    asset = event.get("asset")
    symbol = event.get("symbol")
    market = engine.markets.get(symbol) if isinstance(symbol, str) else None
    risk = None
    for key, value in event.items():
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        if isinstance(asset, str) and asset in engine.assets and key in _ASSET:
            out[key] = units(engine, asset, value)
        elif market is not None and key in _PRICE:
            out[key] = price(engine, symbol, value)
        elif market is not None and key in _QTY:
            out[key] = qty(engine, symbol, value)
        elif market is not None and key in _QUOTE:
            out[key] = units(engine, market.quote, value)
        elif key in _SETTLE:
            risk = risk or module(engine, "risk")
            settle = risk.config.settlement_asset if risk is not None else "USDC"
            out[key] = units(engine, settle, value)
        elif abs(value) >= SAFE_JSON_INT:
            out[key] = str(value)
    if event.get("event") == "rejected":  # the engine words it in atoms: the client reads decimal units
        from offchain.api import messages  # it words amounts with this module's helpers

        out["message"] = messages.explain(
            engine,
            event.get("code", ""),
            event.get("message", ""),
            {"ref": event.get("ref", "")},
            event.get("account", ""),
        )
    return out


# Events anyone may see (market-wide); every other event is shown only to its own account.
PUBLIC_EVENTS = {
    "state",
    "breaker",
    "indicative",
    "auction",
    "index",
    "collateral_frozen",
    "collateral_unfrozen",
}
TRADE_FIELDS = ("ts", "tid", "symbol", "price", "qty", "taker_side")


def trade_for(trade: dict, account: str) -> dict:
    """A (formatted) trade as one of its parties sees it: its side of it, never the counterparty."""
    out = {k: trade[k] for k in TRADE_FIELDS}
    if trade["maker"] == account:
        out.update(role="maker", oid=trade["maker_oid"], fee=trade["maker_fee"])
    else:
        out.update(role="taker", oid=trade["taker_oid"], fee=trade["taker_fee"])
    return out


def events_for(engine: Any, events: list[dict], account: str) -> list[dict]:
    """What an account may see of one command's events, formatted: its own events, its side of its
    trades, and market-wide events; other accounts' orders and balances are left out."""
    out = []
    for e in events:
        kind = e.get("event")
        if kind == "trade":
            if account in (e["maker"], e["taker"]):
                out.append({"event": "trade", **trade_for(format_event(engine, e), account)})
        elif e.get("account") == account or kind in PUBLIC_EVENTS:
            out.append(format_event(engine, e))
    return out
