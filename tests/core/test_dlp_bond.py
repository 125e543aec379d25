"""A designated liquidity provider's bond is held in its account (issue 16, "DLPs for real").

While an account is a DLP its bond is an account hold like an open order's: orders and withdrawals
cannot spend it, revocation releases it, and ``dlp_reverse`` (a priority deposit a reorg removed)
debits the held bond first, never below zero, the uncovered rest kept as ``dlp_shortfall``.
"""

from __future__ import annotations

from test_breaker_engine import SYMBOL, USDC, Exchange, deep_book, of, tripped

from offchain.core.build import restore_engine
from offchain.core.config import EngineConfig
from offchain.core.messages.breaker import DlpBond, DlpReversed
from offchain.core.messages.events import Rejected

BOND = "40000000"  # of the 50 000 000 USDC every account of the Exchange holds
BOND_ATOMS = 40_000_000 * USDC


def bonded() -> Exchange:
    x = Exchange()
    events = x.ok("dlp", account="dlp", bond_asset="USDC", bond=BOND)
    assert of(events, DlpBond)[0].bond == BOND_ATOMS
    return x


def refused(x: Exchange, cmd: str, **fields) -> Rejected:
    before = x.engine.state_hash()
    events = x.do(cmd, **fields)
    assert x.engine.state_hash() == before
    rejected = of(events, Rejected)
    assert rejected and rejected[0].message
    return rejected[0]


def test_the_bond_is_held_and_cannot_be_withdrawn():
    x = bonded()
    assert x.engine.held("dlp", "USDC") == BOND_ATOMS

    r = refused(x, "withdraw", account="dlp", asset="USDC", amount="10000001")

    assert r.code == "insufficient_balance"
    x.ok("withdraw", account="dlp", asset="USDC", amount="10000000")  # the free part goes
    assert x.engine.balance("dlp", "USDC") == BOND_ATOMS


def test_orders_cannot_spend_the_bond():
    x = bonded()
    # a buy needing more quote than the free 10 000 000 USDC
    r = refused(
        x, "order", account="dlp", symbol=SYMBOL, side="buy", type="limit", price="1.0", qty="20000000"
    )

    assert r.code == "insufficient_balance"


def test_a_designation_the_account_cannot_hold_is_refused_and_changes_nothing():
    x = Exchange()
    assert refused(x, "dlp", account="dlp", bond_asset="USDC", bond="50000001").code == "insufficient_balance"
    assert refused(x, "dlp", account="nobody", bond_asset="USDC", bond="1").code == "insufficient_balance"
    assert refused(x, "dlp", account="dlp", bond_asset="NOPE", bond="1").code == "unknown_asset"
    breaker = next(m for m in x.engine.modules if m.name == "breaker")
    assert "dlp" not in breaker.dlps and "nobody" not in breaker.dlps


def test_revocation_releases_the_bond():
    x = bonded()

    events = x.ok("dlp", account="dlp", designated=False)

    assert of(events, DlpBond)[0].bond == 0
    assert x.engine.held("dlp", "USDC") == 0
    x.ok("withdraw", account="dlp", asset="USDC", amount="50000000")


def test_a_reorged_priority_deposit_is_debited_from_the_held_bond():
    x = bonded()
    deep_book(x)
    tripped(x)
    x.ok("dlp_deposit", account="dlp", symbol=SYMBOL, asset="USDC", amount="30000000", ref="deposit:0xa:0")
    x.ok("withdraw", account="dlp", asset="USDC", amount="40000000")  # the credit left at once (free)
    assert x.engine.balance("dlp", "USDC") == BOND_ATOMS

    events = x.ok("dlp_reverse", account="dlp", asset="USDC", amount="30000000", ref="deposit:0xa:0")

    reversed_ = of(events, DlpReversed)[0]
    assert (reversed_.from_bond, reversed_.shortfall) == (30_000_000 * USDC, 0)
    assert x.engine.balance("dlp", "USDC") == 10_000_000 * USDC
    assert x.engine.held("dlp", "USDC") == 10_000_000 * USDC  # what is left of the bond
    breaker = next(m for m in x.engine.modules if m.name == "breaker")
    assert breaker.bond_of("dlp") == ("USDC", 10_000_000 * USDC)


def test_a_reversal_beyond_the_bond_never_goes_negative_and_reports_the_shortfall():
    x = Exchange()
    x.ok("dlp", account="dlp", bond_asset="USDC", bond="1000")
    deep_book(x)
    tripped(x)
    x.ok("dlp_deposit", account="dlp", symbol=SYMBOL, asset="USDC", amount="30000000", ref="deposit:0xb:0")
    x.ok("withdraw", account="dlp", asset="USDC", amount="79999000")  # everything but the bond

    events = x.ok("dlp_reverse", account="dlp", asset="USDC", amount="30000000", ref="deposit:0xb:0")

    reversed_ = of(events, DlpReversed)[0]
    assert reversed_.from_bond == 1000 * USDC and reversed_.shortfall == (30_000_000 - 1000) * USDC
    assert x.engine.balance("dlp", "USDC") == 0
    breaker = next(m for m in x.engine.modules if m.name == "breaker")
    assert breaker.to_state()["dlp_shortfall"] == {"dlp": {"USDC": (30_000_000 - 1000) * USDC}}


def test_snapshot_and_restore_keep_the_hold():
    x = bonded()

    restored = restore_engine(x.engine.snapshot(), EngineConfig(risk=False, treasury=False))

    assert restored.state_hash() == x.engine.state_hash()
    assert restored.held("dlp", "USDC") == BOND_ATOMS
    y = Exchange.__new__(Exchange)
    y.engine, y.ts = restored, x.ts
    assert (
        refused(y, "withdraw", account="dlp", asset="USDC", amount="10000001").code == "insufficient_balance"
    )
    y.ok("dlp", account="dlp", designated=False)
    assert restored.held("dlp", "USDC") == 0


def test_a_margin_account_cannot_withdraw_its_bond_either():
    from offchain.core.build import build_engine
    from offchain.core.messages.codec import parse_command

    engine = build_engine(EngineConfig(risk=True, treasury=False))
    x = Exchange.__new__(Exchange)
    x.engine, x.ts = engine, 0
    x.do = lambda cmd, dt_ms=1, **f: engine.apply(parse_command({"ts": 0, "cmd": cmd, **f}, engine))
    x.ok("asset", symbol="USDC", decimals=6, collateral_weight="1")
    x.ok("deposit", account="dlp", asset="USDC", amount="1000")
    x.ok("margin", account="dlp", enabled=True)
    x.ok("dlp", account="dlp", bond_asset="USDC", bond="800")

    assert refused(x, "withdraw", account="dlp", asset="USDC", amount="201").code == "insufficient_balance"
    x.ok("withdraw", account="dlp", asset="USDC", amount="200")


def test_money_is_conserved_through_designation_credit_and_reversal():
    x = bonded()
    deep_book(x)
    tripped(x)

    def total() -> int:
        accounts = x.engine.accounts
        return sum(a.balance.get("USDC", 0) for a in accounts.by_name.values()) + accounts.fees.get("USDC", 0)

    start = total()
    x.ok("dlp_deposit", account="dlp", symbol=SYMBOL, asset="USDC", amount="30000000", ref="deposit:0xc:0")
    assert total() == start + 30_000_000 * USDC
    x.ok("withdraw", account="dlp", asset="USDC", amount="40000000")
    x.ok("dlp_reverse", account="dlp", asset="USDC", amount="30000000", ref="deposit:0xc:0")

    assert total() == start - 40_000_000 * USDC  # the credit went back out in full, from the bond
    for acct in x.engine.accounts.by_name.values():
        assert 0 <= acct.held.get("USDC", 0) <= acct.balance.get("USDC", 0)
