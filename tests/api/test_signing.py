"""EIP-712 order signatures: what a wallet signs is what the API accepts, and nothing else."""

import pytest
from eth_account import Account

from offchain.api.signing import Domain, SignatureError, sign, verify

DOMAIN = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
TRADER = Account.from_key("0x" + "a1" * 32)
IMPOSTOR = Account.from_key("0x" + "b2" * 32)
NOW = 1_700_000_000


def order(account=TRADER.address, **over):
    msg = {
        "account": account,
        "symbol": "USDE-USDC",
        "side": "buy",
        "type": "limit",
        "price": "0.9990",
        "qty": "100",
        "tif": "GTC",
        "client_id": "t-1",
        "post_only": False,
        "reduce_only": False,
        "stp": "cancel_maker",
        "nonce": 1,
        "expiry": NOW + 60,
    }
    msg.update(over)
    return msg


def test_an_order_signed_by_its_account_verifies():
    msg = order()
    assert verify(DOMAIN, "Order", msg, sign(DOMAIN, "Order", msg, TRADER.key), NOW) == TRADER.address


def test_an_order_signed_by_another_key_is_refused_as_bad_signature():
    msg = order()
    with pytest.raises(SignatureError) as err:
        verify(DOMAIN, "Order", msg, sign(DOMAIN, "Order", msg, IMPOSTOR.key), NOW)
    assert err.value.code == "bad_signature"


def test_a_changed_field_after_signing_is_refused():
    msg = order()
    signature = sign(DOMAIN, "Order", msg, TRADER.key)
    with pytest.raises(SignatureError) as err:
        verify(DOMAIN, "Order", order(price="0.6500"), signature, NOW)
    assert err.value.code == "bad_signature"


def test_a_signature_for_another_chain_is_refused():
    msg = order()
    other = Domain(chain_id=1, verifying_contract=DOMAIN.verifying_contract)
    with pytest.raises(SignatureError):
        verify(DOMAIN, "Order", msg, sign(other, "Order", msg, TRADER.key), NOW)


def test_an_expired_order_is_refused_as_expired():
    msg = order(expiry=NOW)
    with pytest.raises(SignatureError) as err:
        verify(DOMAIN, "Order", msg, sign(DOMAIN, "Order", msg, TRADER.key), NOW)
    assert err.value.code == "expired"


def test_garbage_signature_is_refused_as_bad_signature():
    with pytest.raises(SignatureError) as err:
        verify(DOMAIN, "Order", order(), "0x1234", NOW)
    assert err.value.code == "bad_signature"
