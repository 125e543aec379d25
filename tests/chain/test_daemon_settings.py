"""Daemon settings: file < environment < flags, errors that name the field, where keys may come from."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from offchain.chain.protocol import deposit_ref, pool_price_to_engine
from offchain.settings import DaemonSettings, SettingsError, devnet_account

ANVIL_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_flags_beat_environment_beat_file(tmp_path, monkeypatch):
    config = tmp_path / "daemon.toml"
    config.write_text('confirmations = 3\nrpc_url = "http://file:8545"\napi_port = 9000\n')
    monkeypatch.setenv("BREAKWATER_RPC_URL", "http://env:8545")

    settings = DaemonSettings.load(config, api_port=9100, confirmations=None)

    assert (settings.confirmations, settings.rpc_url, settings.api_port) == (3, "http://env:8545", 9100)


def test_bad_field_in_a_file_is_named(tmp_path):
    config = tmp_path / "daemon.json"
    config.write_text('{"confirmations": "many", "unknown_knob": 1}')
    with pytest.raises(SettingsError) as err:
        DaemonSettings.load(config)
    assert "confirmations" in str(err.value) and "unknown_knob" in str(err.value)


def test_attestation_interval_is_hourly_but_a_minute_on_a_devnet():
    settings = DaemonSettings()
    assert (settings.attestation_interval(devnet=False), settings.attestation_interval(devnet=True)) == (
        3600,
        60,
    )
    assert DaemonSettings(attestation_interval_s=5).attestation_interval(devnet=False) == 5


def test_raw_key_is_refused_off_a_devnet_and_anvil_account_is_the_devnet_default(monkeypatch):
    key = Account.create()
    monkeypatch.setenv("BREAKWATER_PRIVATE_KEY", key.key.hex())
    assert DaemonSettings().signer(31337).address == key.address
    with pytest.raises(SettingsError, match="devnets only"):
        DaemonSettings().signer(1)

    monkeypatch.delenv("BREAKWATER_PRIVATE_KEY")
    assert DaemonSettings().signer(31337).address == ANVIL_0 == devnet_account(0).address
    with pytest.raises(SettingsError, match="keystore"):
        DaemonSettings().signer(1)


def test_keystore_key_needs_its_password(tmp_path, monkeypatch):
    key = Account.create()
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(key.key, "hunter2", iterations=2)))
    settings = DaemonSettings(keystore=keystore)
    with pytest.raises(SettingsError, match="BREAKWATER_KEYSTORE_PASSWORD"):
        settings.signer(1)
    monkeypatch.setenv("BREAKWATER_KEYSTORE_PASSWORD", "hunter2")
    assert settings.signer(1).address == key.address


def test_pool_price_becomes_quote_atoms_per_whole_base_in_either_token_order():
    par = 10**18  # Pool.vy: whole token1 per whole token0, scaled 1e18
    assert pool_price_to_engine(par * 999 // 1000, base_is_token0=True, quote_decimals=6) == 999_000
    assert pool_price_to_engine(par * 2, base_is_token0=False, quote_decimals=6) == 500_000  # base is token1
    assert pool_price_to_engine(0, base_is_token0=True, quote_decimals=6) == 0


def test_deposit_ref_ignores_block_position():
    assert deposit_ref("0xABCD", 0) == deposit_ref("0xabcd", 0) != deposit_ref("0xabcd", 1)
