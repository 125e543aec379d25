"""Reduce-only is enforced at fill time (issue 15.4): resting reduce-only orders can never flip a
position, whatever else filled first in the same walk."""

from __future__ import annotations

from risk_venue import PERP, listed

from offchain.core.messages.events import Cancelled, Trade

BTC = 10**8


def long_one_btc():
    v = listed()
    for account in ("long", "short", "taker"):
        v.ok("deposit", account=account, asset="USDC", amount="1000000")
    v.ok("order", account="short", symbol=PERP, side="sell", type="limit", price="60000", qty="1", tif="GTC")
    v.ok("order", account="long", symbol=PERP, side="buy", type="market", qty="1", tif="IOC")
    assert v.module.position("long", PERP).qty == BTC
    return v


def test_two_resting_reduce_only_sells_of_a_one_btc_long_never_make_it_short():
    v = long_one_btc()
    for cid in ("ro1", "ro2"):
        v.ok("order", account="long", symbol=PERP, side="sell", type="limit", price="60100", qty="1",
             tif="GTC", reduce_only=True, id=cid)  # fmt: skip

    events = v.ok("order", account="taker", symbol=PERP, side="buy", type="limit", price="60100", qty="2",
                  tif="GTC")  # fmt: skip

    assert v.module.position("long", PERP).qty == 0, "reduce-only flipped the position"
    assert sum(e.qty for e in events if isinstance(e, Trade)) == BTC
    cancelled = [e for e in events if isinstance(e, Cancelled) and e.account == "long"]
    assert [(e.client_id, e.reason) for e in cancelled] == [("ro2", "reduce_only")]
    assert v.module.position("taker", PERP).qty == BTC  # its remainder rests


def test_a_plain_sell_filled_first_in_the_walk_uses_up_the_reduce_only_room():
    v = long_one_btc()
    v.ok("order", account="long", symbol=PERP, side="sell", type="limit", price="60100", qty="0.6", tif="GTC",
         id="plain")  # fmt: skip
    v.ok("order", account="long", symbol=PERP, side="sell", type="limit", price="60200", qty="1", tif="GTC",
         reduce_only=True, id="ro")  # fmt: skip

    v.ok("order", account="taker", symbol=PERP, side="buy", type="limit", price="60200", qty="2", tif="IOC")

    assert v.module.position("long", PERP).qty == 0  # 0.6 plain + 0.4 of the reduce-only, never below
