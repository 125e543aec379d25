"""The wire form's pieces: decimal scaling, the field reader, and the core commands' wire parsers.

`codec.parse_command` is the entry point; this file and the `messages.<module>` files hold the parsers.
The overview (kept from the one-file codec):

Two forms:
- the *journal* form (`command_to_dict`/`command_from_dict`, `event_to_dict`/`event_from_dict`): the
  dataclass fields as they are (integers), plus `"cmd"` or `"event"`. Lossless and engine-independent.
- the *wire* form (`parse_command(d, engine)`): what scenario files and the API send — `t` in seconds,
  amounts and prices as decimal strings, `id` for the client order id (SPEC §4). It is scaled to
  integers with the engine's asset and market registry. A structurally bad command (unknown `cmd`,
  missing or unknown field, a value of the wrong type) raises `CommandFormatError` naming the field. A
  well-formed command that cannot be expressed in integers (unknown market or asset, a price finer than
  the quote asset's smallest unit) parses to `Invalid`, which the engine answers with a rejection.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from offchain.core.codes import RejectCode as R
from offchain.core.messages import commands as C
from offchain.core.units import MAX_ATOMS, MAX_DECIMAL_CHARS, MAX_EXPONENT, MAX_INT, MAX_PRICE, MAX_TS, PPM


class CommandFormatError(ValueError):
    """A wire command that is not a valid command; the message says which field and why."""


# -- numbers -------------------------------------------------------------------------------------
def to_decimal(value: Any, field: str) -> Decimal:
    """Return a decimal string or an integer as a Decimal (floats are refused: use strings)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise CommandFormatError(f"{field}: expected a decimal string, got {value!r}")
    if isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise CommandFormatError(f"{field}: {value} is out of range")
    elif len(value) > MAX_DECIMAL_CHARS:
        raise CommandFormatError(
            f"{field}: a number of {len(value)} characters (at most {MAX_DECIMAL_CHARS})"
        )
    try:
        dec = Decimal(value)
    except InvalidOperation:
        raise CommandFormatError(f"{field}: {value!r} is not a decimal number") from None
    if not dec.is_finite():
        raise CommandFormatError(f"{field}: {value!r} is not a finite number")
    if dec and abs(dec.adjusted()) > MAX_EXPONENT:
        raise CommandFormatError(f"{field}: {value!r} is out of range")
    return dec


def scale(value: Any, decimals: int, field: str, maximum: int = MAX_ATOMS) -> int | None:
    """Return `value * 10**decimals` as an integer, or None when it has finer precision than that.

    A result beyond `maximum` (atoms; `MAX_PRICE` for prices) is refused as a `CommandFormatError`.
    """
    dec = to_decimal(value, field).scaleb(decimals)
    if dec != dec.to_integral_value():
        return None
    atoms = int(dec)
    if abs(atoms) > maximum:
        raise CommandFormatError(f"{field}: {value} is above the maximum ({maximum} atoms)")
    return atoms


def format_units(atoms: int, decimals: int) -> str:
    """Return an integer amount of smallest units as a plain decimal string (no exponent)."""
    sign = "-" if atoms < 0 else ""
    whole, frac = divmod(abs(atoms), 10**decimals)
    if not decimals or not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{decimals}d}".rstrip("0")


def format_price(engine: Any, symbol: str, price: int) -> str:
    """Return a market's integer price as a decimal string in quote units."""
    return format_units(price, engine.assets[engine.markets[symbol].quote].decimals)


def format_qty(engine: Any, symbol: str, qty: int) -> str:
    """Return a market's integer quantity as a decimal string in base units."""
    return format_units(qty, engine.assets[engine.markets[symbol].base].decimals)


# -- wire form -------------------------------------------------------------------------------------
class _Reader:
    """Field access on one wire dict that remembers which fields were used and names bad ones."""

    def __init__(self, d: dict) -> None:
        self.d = d
        self.used = {"t", "ts", "cmd"}
        self.name = d.get("cmd")

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return self.d.get(key, default)

    def req(self, key: str) -> Any:
        self.used.add(key)
        if key not in self.d or self.d[key] is None:
            raise CommandFormatError(f"{self.name}: missing field {key!r}")
        return self.d[key]

    def text(
        self,
        key: str,
        default: Any = ...,
    ) -> Any:
        value = self.req(key) if default is ... else self.get(key, default)
        if value is not None and not isinstance(value, str):
            raise CommandFormatError(f"{self.name}: {key} must be a string, got {value!r}")
        return value

    def flag(self, key: str) -> bool:
        value = self.get(key, False)
        if not isinstance(value, bool):
            raise CommandFormatError(f"{self.name}: {key} must be true or false, got {value!r}")
        return value

    def integer(self, key: str, default: Any = ...) -> Any:
        value = self.req(key) if default is ... else self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise CommandFormatError(f"{self.name}: {key} must be an integer, got {value!r}")
        if isinstance(value, str) and len(value) > 20:
            raise CommandFormatError(f"{self.name}: {key} is out of range")
        try:
            number = int(value)
        except ValueError:
            raise CommandFormatError(f"{self.name}: {key} must be an integer, got {value!r}") from None
        if not -MAX_INT <= number <= MAX_INT:
            raise CommandFormatError(f"{self.name}: {key} is out of range")
        return number

    def done(self) -> None:
        extra = sorted(set(self.d) - self.used)
        if extra:
            raise CommandFormatError(f"{self.name}: unknown field(s) {', '.join(extra)}")


def parse_ts(d: dict) -> int:
    """Return a wire command's time in ms: `ts` (integer ms) or `t` (seconds, decimal allowed)."""
    if "ts" in d:
        ts = d["ts"]
        if isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts <= MAX_TS:
            raise CommandFormatError(f"ts must be an integer of milliseconds in [0, {MAX_TS}], got {ts!r}")
        return ts
    if "t" not in d:
        raise CommandFormatError("missing field 't' (seconds)")
    t = d["t"]
    if isinstance(t, float):
        t = repr(t)  # scenario files write 1.5; read it as the decimal it spells
    if isinstance(t, str | int) and not isinstance(t, bool):
        ms = scale(t, 3, "t", MAX_TS)
    else:
        raise CommandFormatError(f"t must be seconds as a number or decimal string, got {t!r}")
    if ms is None or ms < 0:
        raise CommandFormatError(f"t must be non-negative seconds with at most 3 decimals, got {d['t']!r}")
    return ms


WireParser = Callable[[_Reader, int, Any], Any]
WIRE_PARSERS: dict[str, WireParser] = {}


def wire(name: str) -> Callable[[WireParser], WireParser]:
    """Decorator: register the wire parser for the scenario command `name` (other parts add theirs)."""

    def deco(fn: WireParser) -> WireParser:
        WIRE_PARSERS[name] = fn
        return fn

    return deco


def _invalid(ts: int, r: _Reader, code: str, message: str) -> C.Invalid:
    account = r.d.get("account")
    return C.Invalid(ts, r.name, account if isinstance(account, str) else "", code, message)


def _fraction(r: _Reader, key: str, unit: int, default: int) -> int | None:
    """Return an optional decimal fraction field in `unit`s of 1 (bps: 10_000), None if too fine."""
    value = r.get(key)
    if value is None:
        return default
    dec = to_decimal(value, f"{r.name}.{key}") * unit
    return int(dec) if dec == dec.to_integral_value() else None


@wire("asset")
def _asset(r: _Reader, ts: int, engine: Any) -> Any:
    symbol = r.text("symbol")
    decimals = r.integer("decimals")
    weight = _fraction(r, "collateral_weight", PPM, PPM)
    if weight is None:
        return _invalid(ts, r, R.BAD_COLLATERAL_WEIGHT, "collateral weight has more than 6 decimals")
    return C.AddAsset(ts, symbol, decimals, weight)


@wire("market")
def _market(r: _Reader, ts: int, engine: Any) -> Any:
    symbol = r.text("symbol")
    kind = r.text("kind", "spot")
    base, quote = r.text("base"), r.text("quote")
    tick, lot, min_qty = r.req("tick"), r.req("lot"), r.get("min_qty")
    band = _fraction(r, "band", 10_000, 1000)
    impact = _fraction(r, "impact", 10_000, 500)
    for asset in (base, quote):
        if asset not in engine.assets:
            return _invalid(ts, r, R.UNKNOWN_ASSET, f"no asset {asset!r}")
    if band is None or impact is None:
        return _invalid(ts, r, R.BAD_BAND, "bands are given to the basis point")
    tick_u = scale(tick, engine.assets[quote].decimals, "market.tick", MAX_PRICE)
    if tick_u is None:
        return _invalid(ts, r, R.BAD_TICK, f"tick {tick} is finer than {quote}'s smallest unit")
    base_dec = engine.assets[base].decimals
    lot_u = scale(lot, base_dec, "market.lot")
    min_u = 0 if min_qty is None else scale(min_qty, base_dec, "market.min_qty")
    if lot_u is None or min_u is None:
        return _invalid(ts, r, R.BAD_LOT, f"lot or minimum size is finer than {base}'s smallest unit")
    return C.AddMarket(ts, symbol, kind, base, quote, tick_u, lot_u, min_u, band, impact)


def _money(r: _Reader, ts: int, engine: Any, cls: type) -> Any:
    account, asset, amount = r.text("account"), r.text("asset"), r.req("amount")
    ref = r.text("ref", "") or ""
    if asset not in engine.assets:
        return _invalid(ts, r, R.UNKNOWN_ASSET, f"no asset {asset!r}")
    atoms = scale(amount, engine.assets[asset].decimals, f"{r.name}.amount")
    if atoms is None:
        return _invalid(ts, r, R.BAD_AMOUNT, f"{amount} is finer than {asset}'s smallest unit")
    return cls(ts, account, asset, atoms, ref)


@wire("deposit")
def _deposit(r: _Reader, ts: int, engine: Any) -> Any:
    return _money(r, ts, engine, C.Deposit)


@wire("withdraw")
def _withdraw(r: _Reader, ts: int, engine: Any) -> Any:
    return _money(r, ts, engine, C.Withdraw)


def _price_qty(r: _Reader, ts: int, engine: Any, symbol: str) -> tuple[Any, Any] | C.Invalid:
    """Scale the optional `price` and `qty` fields with a market's assets (an unknown market, or a value
    finer than the asset's smallest unit, is an `Invalid` command)."""
    market = engine.markets.get(symbol)
    if market is None:
        return _invalid(ts, r, R.UNKNOWN_MARKET, f"no market {symbol!r}")
    price, qty = r.get("price"), r.get("qty")
    price_u = qty_u = None
    if price is not None:
        price_u = scale(price, engine.assets[market.quote].decimals, f"{r.name}.price", MAX_PRICE)
        if price_u is None:
            return _invalid(ts, r, R.BAD_TICK, f"price {price} is finer than the quote's smallest unit")
    if qty is not None:
        qty_u = scale(qty, engine.assets[market.base].decimals, f"{r.name}.qty")
        if qty_u is None:
            return _invalid(ts, r, R.BAD_LOT, f"size {qty} is finer than the base's smallest unit")
    return price_u, qty_u


@wire("order")
def _order(r: _Reader, ts: int, engine: Any) -> Any:
    account, symbol, side = r.text("account"), r.text("symbol"), r.text("side")
    typ = r.text("type", C.LIMIT)
    tif = r.text("tif", C.IOC if typ == C.MARKET else C.GTC)
    post_only, reduce_only, api = r.flag("post_only"), r.flag("reduce_only"), r.flag("api")
    stp = r.text("stp", "cancel_maker")
    client_id = r.text("id", None)
    if typ == C.LIMIT:
        r.req("price")
    r.req("qty")
    scaled = _price_qty(r, ts, engine, symbol)
    if isinstance(scaled, C.Invalid):
        return scaled
    price, qty = scaled
    return C.PlaceOrder(
        ts, account, symbol, side, typ, qty, price, tif, post_only, reduce_only, stp, client_id, api
    )


def _order_ref(r: _Reader) -> tuple[str | None, int | None]:
    client_id = r.text("id", None)
    oid = r.get("oid")
    if oid is not None:
        oid = r.integer("oid")
    if client_id is None and oid is None:
        raise CommandFormatError(f"{r.name}: give the order's 'id' (client id) or 'oid'")
    return client_id, oid


@wire("cancel")
def _cancel(r: _Reader, ts: int, engine: Any) -> Any:
    account = r.text("account")
    client_id, oid = _order_ref(r)
    return C.Cancel(ts, account, client_id, oid)


@wire("cancel_all")
def _cancel_all(r: _Reader, ts: int, engine: Any) -> Any:
    return C.CancelAll(ts, r.text("account"), r.text("symbol", None))


@wire("amend")
def _amend(r: _Reader, ts: int, engine: Any) -> Any:
    account = r.text("account")
    client_id, oid = _order_ref(r)
    symbol = r.text("symbol", None)
    if r.get("price") is None and r.get("qty") is None:
        raise CommandFormatError("amend: give a new 'price' and/or 'qty'")
    if symbol is None:  # the numbers scale with the order's market
        acct = engine.accounts.get(account)
        if acct is not None:
            found = acct.client_ids.get(client_id) if client_id is not None else oid
            if found in acct.orders:
                symbol = acct.orders[found].symbol
        if symbol is None:
            return _invalid(ts, r, R.UNKNOWN_ORDER, f"no open order {client_id or oid!r}")
    scaled = _price_qty(r, ts, engine, symbol)
    if isinstance(scaled, C.Invalid):
        return scaled
    price, qty = scaled
    return C.Amend(ts, account, client_id, oid, price, qty)


@wire("index")
def _index(r: _Reader, ts: int, engine: Any) -> Any:
    symbol, source, price = r.text("symbol"), r.text("source"), r.req("price")
    if symbol not in engine.markets:
        return _invalid(ts, r, R.UNKNOWN_MARKET, f"no market {symbol!r}")
    price_u = scale(price, engine.assets[engine.markets[symbol].quote].decimals, "index.price", MAX_PRICE)
    if price_u is None:
        return _invalid(ts, r, R.BAD_PRICE, f"price {price} is finer than the quote's smallest unit")
    return C.Index(ts, symbol, source, price_u)


@wire("halt")
def _halt(r: _Reader, ts: int, engine: Any) -> Any:
    return C.Halt(ts, r.text("symbol"), r.text("reason", "manual") or "manual")


@wire("resume")
def _resume(r: _Reader, ts: int, engine: Any) -> Any:
    return C.Resume(ts, r.text("symbol"))


@wire("tick")
def _tick(r: _Reader, ts: int, engine: Any) -> Any:
    return C.Tick(ts)
