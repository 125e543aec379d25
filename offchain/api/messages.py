"""What the API tells a client when the exchange refuses something: plain words, decimal units.

The engine words its rejections for its own journal, in atoms (`needs 1000798200000 USDC atoms`,
`multiple of the tick 100`, `the reference 999000`). The API never forwards those: every refusal it
returns (REST bodies, the WebSocket account channel) is worded here, once, keyed by the rejection
code's string value (the core's `RejectCode` members are str-valued, so either works as a key), in
the decimal units of the market or asset (`0.0001 USDC`, `1 USDE`), with the values the client sent.

`explain(engine, code, engine_message, request)` picks the first template of the code whose fields
are all known (the request's fields, the market's tick, lot, minimum, band and reference, the
account's free balance, and amounts the engine's message carries, converted from atoms) and falls
back to a sentence without figures. A code without a template is worded from its name, never with
the engine's atoms.
"""

from __future__ import annotations

import logging
import re
import string
from typing import Any

from offchain.core.messages.codec import format_price, format_qty, format_units

log = logging.getLogger("offchain.api.messages")

# code -> templates, most specific first; the last one needs no field
MESSAGES: dict[str, tuple[str, ...]] = {
    # -- orders: size and price ------------------------------------------------------------------
    "bad_qty": ("the size must be a positive amount of {base}", "the size must be a positive amount"),
    "bad_lot": (
        "the size {qty} {base} is not a whole number of lots: {symbol} sizes go in steps of {lot} {base}",
        "the size is not a whole number of the market's lots",
    ),
    "below_min_qty": (
        "the size {qty} {base} is below {symbol}'s minimum order of {min_qty} {base}",
        "the size is below the market's minimum order",
    ),
    "bad_price": (
        "a limit order needs a positive price in {quote}, and a market order none",
        "a limit order needs a positive price, and a market order none",
    ),
    "bad_tick": (
        "the price {price} {quote} is not on the tick: {symbol} prices go in steps of {tick} {quote}",
        "the price is not a multiple of the market's tick",
    ),
    "price_out_of_band": (
        "the price {price} {quote} is more than {band_pct} % away from {symbol}'s reference price "
        "{reference} {quote}: orders are accepted from {band_low} to {band_high} {quote}",
        "the price is too far from the market's reference price",
    ),
    # -- orders: balance, margin, liquidity ------------------------------------------------------
    "insufficient_balance": (
        "not enough free {asset}: this needs {need} {asset} and {free} {asset} is free "
        "(balance not held by open orders)",
        "not enough free {asset}: {free} {asset} is free (balance not held by open orders)",
        "not enough free balance for this",
    ),
    "insufficient_margin": (
        "not enough margin: with this and its open orders filled the account would be worth {equity} "
        "{settle}, below the {initial} {settle} of initial margin its positions and borrows need",
        "not enough margin: with this and its open orders filled the account would be below its "
        "initial margin",
    ),
    "insufficient_liquidity": (
        "the lending pool cannot lend that much: this borrows {more} {asset} and the pool has "
        "{room} {asset} to lend",
        "the lending pool cannot lend that much now",
    ),
    "negative_equity": (
        "the account is worth less than nothing ({equity} {settle}): no withdrawal until it is not",
        "the account is worth less than nothing: no withdrawal until it is not",
    ),
    "no_liquidity": (
        "nothing to trade against on {symbol}: the other side of the book is empty, or has nothing "
        "within the impact band",
        "nothing to trade against: the other side of the book is empty, or has nothing within the "
        "impact band",
    ),
    "fok_unfillable": (
        "fill-or-kill: only {can} of the {qty} {base} can fill now, so nothing was traded",
        "fill-or-kill: the whole size cannot fill now, so nothing was traded",
    ),
    "post_only_would_cross": (
        "a post-only order must not trade on arrival, and at {price} {quote} it would",
        "a post-only order must not trade on arrival, and at this price it would",
    ),
    "duplicate_client_id": (
        "an open order of this account already has the client id {client_id}",
        "an open order of this account already has this client id",
    ),
    "reduce_only_spot": ("reduce-only applies to perpetual positions, not to spot markets",),
    "reduce_only_would_increase": (
        "reduce-only: the position is {position} {base} and this order would not only reduce it",
        "reduce-only: this order would not only reduce the position",
    ),
    "unsupported_market_kind": (
        "{symbol} is a {kind} market, which this exchange does not trade yet",
        "this exchange does not trade this kind of market yet",
    ),
    # -- orders: the request's fields ------------------------------------------------------------
    "bad_side": ("the side must be buy or sell",),
    "bad_type": ("the type must be limit or market (a post-only order is a limit order)",),
    "bad_tif": (
        "time in force must be GTC, IOC or FOK (a market order is IOC or FOK, a post-only order GTC)",
    ),
    "bad_stp": ("self-trade prevention must be cancel_maker, cancel_taker, cancel_both or decrement",),
    # -- markets and the protocol --------------------------------------------------------------------
    "not_continuous": (
        "{symbol} is {state_words}: until it trades continuously again only good-till-cancelled limit "
        "orders are accepted",
        "the market is not trading continuously: only good-till-cancelled limit orders are accepted",
    ),
    "protocol_paused": (
        "the protocol is paused on-chain: only reduce-only orders are accepted until it resumes",
    ),
    "withdrawals_paused": (
        "withdrawals are paused on-chain ({reason}); nothing was debited, try again once they resume",
        "withdrawals are paused on-chain; nothing was debited, try again once they resume",
    ),
    "already_halted": ("{symbol} is already halted", "the market is already halted"),
    "not_halted": ("{symbol} is not halted", "the market is not halted"),
    # -- names ------------------------------------------------------------------------------------
    "unknown_market": ("there is no market {symbol}", "there is no such market"),
    "unknown_asset": ("there is no asset {asset}", "there is no such asset"),
    "unknown_account": ("this account has nothing on the exchange yet: deposit first",),
    "unknown_order": (
        "this account has no open order {order}",
        "this account has no such open order",
    ),
    "unknown_withdrawal": ("there is no such withdrawal owed",),
    "unknown_command": ("the exchange does not know this command",),
    # -- amounts ----------------------------------------------------------------------------------
    "bad_amount": (
        "the amount must be a positive number of {asset}, no finer than {asset_unit} {asset}",
        "the amount must be positive, and no finer than the asset's smallest unit",
    ),
    "cover_exceeds_bad_debt": ("a cover may not exceed the bad debt owed",),
    # -- operator and chain commands (not sent through the API, worded all the same) ---------------
    "bad_account": ("name an account",),
    "bad_symbol": ("give a symbol",),
    "bad_decimals": ("decimals must be a whole number from 0 to 36",),
    "bad_collateral_weight": ("the collateral weight must be from 0 to 1",),
    "bad_kind": ("the market kind must be spot or perp",),
    "bad_market": ("a market's base and quote assets must differ",),
    "bad_min_qty": ("the minimum order must be a whole number of lots",),
    "bad_band": ("the price band must be positive, and the impact band between 0 and 1",),
    "bad_param": ("a parameter is out of its range",),
    "bad_source": ("an index price needs the name of its source",),
    "bad_flag": ("a pause flag must be true or false",),
    "bad_reason": ("give a short reason",),
    "bad_tx": ("the transaction hash must be a string",),
    "duplicate_asset": ("{asset} is already listed", "the asset is already listed"),
    "duplicate_market": ("{symbol} is already listed", "the market is already listed"),
    "duplicate_deposit": ("this deposit was already credited",),
    "already_paid": ("this withdrawal was already paid",),
    "already_refunded": ("this withdrawal was already refunded",),
    "already_queued": ("this withdrawal is already held in Custody's queue",),
    "insane_band": ("that band is wider than the exchange allows",),
    "leverage_too_high": ("that leverage is above the exchange's maximum",),
    "own_token_collateral": ("the exchange's own token cannot count as collateral",),
    "protocol_unchanged": ("the protocol is already in that state",),
    "negative_rate": ("a rate must not be negative",),
    "not_designated": ("this account is not a designated liquidity provider",),
    "halted_dlp_only": (
        "{symbol} is halted: only designated liquidity providers and authorised participants add orders "
        "until the cool-down",
        "the market is halted: only designated liquidity providers and authorised participants add "
        "orders until the cool-down",
    ),
    "unknown_deposit": ("no priority deposit with this reference",),
    "ts_backwards": ("the command is older than the exchange's clock",),
}

STATE_WORDS = {
    "halted": "halted",
    "auction": "in a reopening auction",
    "cooldown": "cooling down after a halt",
    "reopening": "reopening",
    "closed": "closed",
}
# amounts an engine message carries, in atoms: (regex, field names, what each is measured in)
_ATOMS_OF_ASSET = re.compile(r"(-?\d+) ([A-Z][A-Z0-9]*) atoms")
_INTEGERS = re.compile(r"-?\d+")
_PAREN = re.compile(r"\(([^()]{1,80})\)")


def describe_code(code: str) -> str:
    """A code's name as words (`fok_unfillable` -> `refused: fok unfillable`), for codes without a template."""
    return "refused: " + str(getattr(code, "value", code)).replace("_", " ")


def explain(
    engine: Any, code: Any, engine_message: str = "", request: dict | None = None, account: str = ""
) -> str:
    """The client's message for a rejection `code` of `request` (decimal strings) by `account`."""
    key = str(getattr(code, "value", code))
    templates = MESSAGES.get(key)
    if templates is None:
        log.warning("no client message for rejection code %r (%s)", key, engine_message)
        return describe_code(key)
    try:
        fields = _fields(engine, key, engine_message or "", request or {}, account)
    except Exception:  # wording a refusal must never turn it into a crash
        log.exception("could not word rejection %r", key)
        fields = {}
    for template in templates:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        if names <= {k for k, v in fields.items() if v not in (None, "")}:
            return template.format(**fields)
    return templates[-1]


def _fields(engine: Any, code: str, text: str, request: dict, account: str) -> dict:
    """Everything a template may name, as decimal strings in the market's or asset's units."""
    f: dict[str, Any] = {
        k: request.get(k)
        for k in ("symbol", "side", "price", "qty", "asset", "amount", "client_id")
        if isinstance(request.get(k), str)
    }
    if request.get("oid"):
        f["order"] = str(request["oid"])
    elif request.get("client_id"):
        f["order"] = str(request["client_id"])
    ref = request.get("ref")
    if isinstance(ref, str) and ref:  # what the engine's rejection named: a market, an asset or an order
        if ref in engine.markets:
            f.setdefault("symbol", ref)
        elif ref in engine.assets:
            f.setdefault("asset", ref)
        else:
            f.setdefault("order", ref)
    symbol = f.get("symbol")
    market = engine.markets.get(symbol) if isinstance(symbol, str) else None
    if market is not None:
        f.update(
            base=market.base,
            quote=market.quote,
            kind=getattr(market, "kind", ""),
            tick=_price(engine, symbol, market.tick),
            lot=_qty(engine, symbol, market.lot),
            min_qty=_qty(engine, symbol, market.min_qty),
            state_words=STATE_WORDS.get(market.state, str(market.state)),
        )
        ref = market.reference_price()
        if ref is not None:
            band = market.band_bps
            f.update(
                reference=_price(engine, symbol, ref),
                band_pct=_percent(band),
                band_low=_price(engine, symbol, _round_up(ref * (10_000 - band), 10_000, market.tick)),
                band_high=_price(
                    engine, symbol, ref * (10_000 + band) // 10_000 // market.tick * market.tick
                ),
            )
    risk = _module(engine, "risk")
    settle = risk.config.settlement_asset if risk is not None else "USDC"
    f["settle"] = settle
    numbers = [int(n) for n in _INTEGERS.findall(text)]
    atoms = _ATOMS_OF_ASSET.findall(text)
    if code == "insufficient_balance":
        if atoms:
            need, asset = int(atoms[0][0]), atoms[0][1]
            f["asset"] = asset
            f["need"] = _units(engine, asset, need) if asset in engine.assets else None
        elif market is not None and f.get("side") in ("buy", "sell"):
            f["asset"] = market.quote if f["side"] == "buy" else market.base
        if code == "insufficient_balance" and "amount" in f and "need" not in f:
            f["need"] = f["amount"]
    if code == "insufficient_liquidity" and atoms and len(numbers) >= 2 and atoms[0][1] in engine.assets:
        asset = atoms[0][1]
        f.update(
            asset=asset,
            more=_units(engine, asset, numbers[0]),
            room=_units(engine, asset, numbers[1]),
        )
    if code in ("insufficient_margin", "negative_equity") and settle in engine.assets:
        if numbers:
            f["equity"] = _units(engine, settle, numbers[0])
        if len(numbers) >= 2:
            f["initial"] = _units(engine, settle, numbers[1])
    if code == "fok_unfillable" and market is not None and numbers:
        f["can"] = _qty(engine, symbol, numbers[0])
    if code == "reduce_only_would_increase" and market is not None and numbers:
        f["position"] = _qty(engine, symbol, numbers[0])
    if code == "withdrawals_paused":
        reason = _PAREN.search(text)
        f["reason"] = reason.group(1) if reason and not _INTEGERS.fullmatch(reason.group(1)) else None
    asset = f.get("asset")
    if isinstance(asset, str) and asset in engine.assets:
        f["asset_unit"] = _units(engine, asset, 1)
        acct = engine.accounts.get(account) if account else None
        if acct is not None:
            f["free"] = _units(engine, asset, acct.free(asset))
    return f


def _percent(bps: int) -> str:
    whole, rest = divmod(bps, 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".") if rest else str(whole)


def _round_up(numerator: int, denominator: int, step: int) -> int:
    value = -(-numerator // denominator)
    return -(-value // step) * step


# -- requests that do not parse -------------------------------------------------------------------
_PATTERNS = {
    r"^0x[0-9a-fA-F]{40}$": "is not an address (0x and 40 hex digits)",
    r"^[0-9]{1,40}(\.[0-9]{1,36})?$": 'is not a decimal string such as "0.9990" (no sign, exponent or float)',
    r"^0x[0-9a-fA-F]{0,260}$": "is not a 0x-hex signature",
}


def invalid(error: dict) -> str:
    """Plain words for one request-validation error (a pydantic error dict): `where: what is wrong`."""
    loc = [str(p) for p in error.get("loc", ()) if p != "body"]
    where = ".".join(loc) or "request"
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        what = _PATTERNS.get(str(ctx.get("pattern")), "is not in the expected form")
    elif kind == "missing":
        what = "is missing"
    elif kind == "extra_forbidden":
        what = "is not a field of this request"
    elif kind == "json_invalid":
        where, what = "body", "is not valid JSON"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[
            kind
        ]
        bound = next(iter(ctx.values()), "")
        what = f"must be {sign} {bound}"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        what = "must be a whole number"
    elif kind == "literal_error":
        what = f"must be one of {ctx.get('expected', 'the documented values')}"
    elif kind in ("dict_type", "model_attributes_type", "model_type"):
        what = "must be a JSON object"
    else:
        what = str(error.get("msg", "is not valid")).rstrip(".")
        what = what[0].lower() + what[1:] if what else "is not valid"
    return f"{where}: {what}"


# -- units (written here, not taken from views.py, which words its rejections with this module) ------
def _units(engine: Any, asset: str, atoms: int) -> str:
    a = engine.assets.get(asset)
    return format_units(atoms, a.decimals) if a else str(atoms)


def _price(engine: Any, symbol: str, value: int) -> str:
    return format_price(engine, symbol, value)


def _qty(engine: Any, symbol: str, value: int) -> str:
    return format_qty(engine, symbol, value)


def _module(engine: Any, name: str) -> Any:
    return next((m for m in engine.modules if getattr(m, "name", None) == name), None)
