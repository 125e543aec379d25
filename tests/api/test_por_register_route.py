"""The API serves the epoch's debtors' register in full (public: debtors are published, creditors stay
private) and a PoR summary with the gross ratio beside the net one and the debtors' totals (issue 14.7)."""

from __future__ import annotations

from offchain.chain.poster import _debtors_summary, por_valuation
from offchain.por import Attested, Register, attest_args, audit, build_account_tree, build_register

USDC = "0x" + "aa" * 20
WETH = "0x" + "bb" * 20
PRICES, HAIRCUTS = [10**30, 2_000 * 10**18], [0, 2_000]


def publish_ftx_epoch(service):
    """Users owed 200 USDC, reserves 100 USDC, one fake debtor 'owes' 100 USDC."""
    accounts = [("0x" + "01" * 20, [120 * 10**6, 0]), ("0x" + "02" * 20, [80 * 10**6, 0])]
    accounts.append(("0x" + "03" * 20, [-100 * 10**6, 0]))
    tree = build_account_tree(2, [USDC, WETH], accounts, b"s" * 32)
    register = build_register(tree, PRICES, HAIRCUTS)
    att = attest_args(tree, register=register)
    doc = {
        "epoch": 2,
        "assets": ["USDC", "WETH"],
        "decimals": [6, 18],
        "total_equity": [str(v) for v in att["total_equity"]],
        "total_debt": [str(v) for v in att["total_debt"]],
    }
    doc["debtors"] = _debtors_summary(doc, register)
    service.publish_por(doc, {}, register.to_json())
    # What the chain watcher reads from the registry: reserves 100, net liabilities 200 - 100.
    service.update_chain_status(
        reserves={
            "USDC": {"reserves": "100", "liabilities": "100", "ratio_bps": 10_000},
            "WETH": {"reserves": "0", "liabilities": "0", "ratio_bps": None},
        }
    )
    return tree, register


def test_the_summary_shows_the_gross_ratio_and_the_debtors_totals(service, http):
    publish_ftx_epoch(service)
    body = http.get("/por").json()
    assert body["epoch"] == 2
    usdc = body["assets"]["USDC"]
    assert (usdc["net_ratio_bps"], usdc["gross_ratio_bps"]) == (10_000, 5_000)
    assert (usdc["total_equity"], usdc["total_debt"], usdc["reserves"]) == ("200", "100", "100")
    assert body["assets"]["WETH"]["gross_ratio_bps"] is None
    assert body["debtors"] == {
        "count": 1,
        "covered": 0,
        "debt": {"USDC": "100", "WETH": "0"},
        "collateral": {"USDC": "0", "WETH": "0"},
        "register": "/por/register/2",
    }


def test_the_register_is_public_and_its_fake_debtor_fails_the_audit(service, http):
    tree, register = publish_ftx_epoch(service)
    served = http.get("/por/register/2")
    assert served.status_code == 200
    parsed = Register.from_json(served.json())
    assert [d.index for d in parsed.debtors] == [0]  # only the debtor (first): creditors stay private
    report = audit(parsed, Attested.from_attest_args(attest_args(tree, register=register)))
    assert report.uncovered == [0] and not report.ok


def test_a_register_of_another_epoch_is_not_found(service, http):
    response = http.get("/por/register/1")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert "no epoch is attested yet" in response.json()["message"]
    publish_ftx_epoch(service)
    response = http.get("/por/register/1")
    assert response.status_code == 404 and "the latest attested epoch is 2" in response.json()["message"]
    assert http.get("/por").json()["epoch"] == 2


def test_the_epochs_valuation_comes_from_the_engines_prices_and_weights(service):
    engine = service.engine
    (usdc, usde), (usdc_haircut, usde_haircut) = por_valuation(engine, ["USDC", "USDE"])
    # Per atom, in 10**-30 USDC atoms: USDC itself is 10**30; USDE at its collateral mark.
    mark = engine.modules[0].valuation().asset_price["USDE"]  # USDC atoms per whole USDE
    assert (usdc, usde) == (10**30, mark * 10**30 // 10**18)
    # Haircut = 1 - collateral weight (USDC 100 %, USDE 90 %).
    assert (usdc_haircut, usde_haircut) == (0, 1_000)
    # An asset the engine cannot price counts for nothing as collateral.
    assert por_valuation(engine, ["NOPE"]) == ([1], [10_000])
