"""Settings of `python -m offchain daemon`: defaults < a TOML/JSON file < `BREAKWATER_*` env < CLI flags.

    python -m offchain daemon --config daemon.toml --rpc-url http://127.0.0.1:8545
    BREAKWATER_CONFIRMATIONS=6 python -m offchain daemon

A file names fields exactly as below (an unknown or badly typed field is an error that names it).
Keys: an eth-account keystore file (its password in the env variable `keystore_password_env`), else
on a devnet only a raw key in the env variable `private_key_env`, else on a devnet the anvil test
account `devnet_account`. Off a devnet there is no default key.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    JsonConfigSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from offchain.chain.devnet import DEFAULT_MNEMONIC
from offchain.chain.feeds import DEFAULT_FEED_MARKET
from offchain.paths import BUILD_MANIFEST, PROJECT_ROOT, deployment_file

DEVNET_CHAIN_IDS = (31337, 1337)
VAR_DIR = PROJECT_ROOT / "var"

# Wire-form listings (SPEC §4 scenario fields) the daemon adds to a fresh journal.
DEFAULT_MARKETS: list[dict[str, Any]] = [
    {"symbol": "USDE-USDC", "kind": "spot", "base": "USDE", "quote": "USDC", "tick": "0.0001", "lot": "1"},
    {"symbol": "WETH-USDC", "kind": "spot", "base": "WETH", "quote": "USDC", "tick": "0.01", "lot": "0.001"},
]
DEFAULT_COLLATERAL_WEIGHTS = {"USDC": "1", "USDE": "0.9", "WETH": "0.8"}
# Whole token units from which an on-chain transfer of a token counts as large (seed 000: whale alerts).
DEFAULT_LARGE_TRANSFERS = {"USDC": 250_000, "USDE": 250_000, "WETH": 100}


class SettingsError(ValueError):
    """The settings cannot be used; the message names the field or file."""


class IndexFeed(BaseModel):
    """One `AggregatorV3Interface` price feed read as an index source (`offchain/chain/feeds.py`)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str = Field(min_length=1, max_length=32)
    """The engine's name of the source (not `pool`: that is the on-chain pool's)."""
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    """The feed's address: any contract with `latestRoundData()` and `decimals()` (Chainlink's or a devnet
    `PriceFeed`)."""
    market: str = DEFAULT_FEED_MARKET
    """The engine market whose index it feeds; the feed prices the market's base in its quote."""
    weight: int = Field(default=1, ge=0)
    """Weight in the index's weighted median (0: read and shown, not counted)."""
    max_age_s: int = Field(default=3600, gt=0)
    """Staleness limit: an answer older than this leaves the index (Chainlink feeds: their heartbeat)."""
    invert: bool = False
    """The feed prices the quote in the base (e.g. USDC / USDE): its answer is inverted."""

    @field_validator("name")
    @classmethod
    def _not_the_pool(cls, name: str) -> str:
        if name == "pool":
            raise ValueError("`pool` is the on-chain pool's source name")
        return name


class HaltWindowSettings(BaseModel):
    """Bounds of the measured halt window N = max(T_DLP, T_chain) + T_buffer (`offchain/chain/halt_window.py`)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    measure: bool = True
    """Measure T_chain and T_DLP and set them on every market's breaker (False: the engine's figures)."""
    percentile: int = Field(default=90, ge=1, le=100)
    """The figure is this percentile (nearest rank) of the recent measurements."""
    samples: int = Field(default=64, ge=1, le=10_000)
    """How many recent measurements of each kind are kept."""
    min_samples: int = Field(default=3, ge=1)
    """Measurements needed before they are used (before: block intervals for T_chain, `t_dlp_s`)."""
    t_chain_s: int = Field(default=120, ge=0, le=86_400)
    """T_chain before any block or deposit was seen."""
    t_chain_min_s: int = Field(default=30, ge=0, le=86_400)
    """T_chain never goes below this (a fast devnet still gives people time to move funds)."""
    t_chain_max_s: int = Field(default=1_800, ge=0, le=86_400)
    """T_chain never goes above this (a stalled chain does not keep a market halted for ever)."""
    t_dlp_s: int = Field(default=240, ge=0, le=86_400)
    """T_DLP before `min_samples` DLP arrivals were measured (seed 004: minutes)."""
    t_dlp_min_s: int = Field(default=60, ge=0, le=86_400)
    """T_DLP never goes below this."""
    t_dlp_max_s: int = Field(default=1_800, ge=0, le=86_400)
    """T_DLP never goes above this."""
    t_buffer_s: int = Field(default=120, ge=0, le=86_400)
    """T_buffer: time for market makers to re-arm their risk systems."""

    @model_validator(mode="after")
    def _ordered(self) -> HaltWindowSettings:
        if self.t_chain_min_s > self.t_chain_max_s or self.t_dlp_min_s > self.t_dlp_max_s:
            raise ValueError("a lower bound is above its upper bound")
        return self


class EarlyWarningActions(BaseModel):
    """Automatic mitigations of the early warning (seed 000, `offchain/chain/early_warning.py`)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    enabled: bool = True
    """Take the actions below (False: alerts only)."""
    run_confirmations: int = Field(default=6, ge=1)
    """During a withdrawal-rate or bank-run condition, deposits wait for at least this many
    confirmations (a run is when reorg and double-spend games pay)."""
    run_hot_target_bps: int = Field(default=7_000, ge=0, le=10_000)
    """During a run, the hot wallet's target share of net liabilities (seed 000: 60-70 %); the
    shortfall is requested from cold storage."""
    whale_cvd_trip_ppm: int = Field(default=15_000, ge=1, le=1_000_000)
    """On a whale transfer of a listed pair's token, that market's breaker trips at this CVD
    (tighter than the default 3 %) for `whale_hold_s`."""
    whale_hold_s: int = Field(default=1_800, ge=1)
    """How long a tightened band stays after the last whale transfer."""
    pause_borrow_imr_ppm: int = Field(default=1_000_000, ge=0, le=1_000_000)
    """On a hot-coverage alert, new margin borrowing of that asset needs this initial margin
    (1_000_000 = 100 %: no new borrowing) until the alert clears."""


class DaemonSettings(BaseSettings):
    """Everything the daemon needs to run against one deployment."""

    model_config = SettingsConfigDict(
        env_prefix="BREAKWATER_", extra="forbid", validate_default=True, use_attribute_docstrings=True
    )

    rpc_url: str = "http://127.0.0.1:8545"
    """JSON-RPC endpoint of the chain (HTTP)."""
    deployment: Path | None = None
    """Deployment file; default `deployments/<chain_id>.json` of the chain the RPC serves."""
    manifest: Path = BUILD_MANIFEST
    """ape's build manifest with the contracts' ABIs (`ape compile` writes it)."""
    journal_url: str = f"sqlite:///{VAR_DIR / 'journal.db'}"
    """Where the engine journals commands: `sqlite:///abs.db`, `sqlite://rel.db` or `postgresql://...`."""
    state_path: Path = VAR_DIR / "daemon_state.db"
    """The daemon's own SQLite file: last processed block, proof-of-reserves epochs and salt secret."""
    snapshot_every: int = Field(default=10_000, ge=1)
    """Save an engine snapshot every this many journaled commands."""

    serve_api: bool = True
    """Serve the HTTP/WebSocket API and dashboard in the daemon's process."""
    api_host: str = "127.0.0.1"
    """Address the API listens on."""
    api_port: int = Field(default=8000, ge=0, le=65535)
    """Port the API listens on."""

    keystore: Path | None = None
    """eth-account keystore (JSON) of the daemon's key; its password comes from `keystore_password_env`."""
    keystore_password_env: str = "BREAKWATER_KEYSTORE_PASSWORD"
    """Name of the environment variable that holds the keystore password."""
    private_key_env: str = "BREAKWATER_PRIVATE_KEY"
    """Name of the environment variable with a raw private key (refused off a devnet)."""
    devnet_account: int = Field(default=0, ge=0)
    """Anvil test account (default mnemonic) used on a devnet when no key is given; 0 holds every role."""

    confirmations: int = Field(default=2, ge=1)
    """A deposit is credited once its block has this many confirmations (1 = the head block)."""
    rescan_blocks: int = Field(default=64, ge=0)
    """Blocks below the last processed one that every poll reads again (deposits a reorg moved)."""
    poll_interval_s: float = Field(default=1.0, gt=0)
    """How often the watcher polls the chain (new block, deposits, pool, breaker)."""
    status_interval_s: float = Field(default=5.0, gt=0)
    """How often reserves, attestation freshness and the insurance fund are read into the status."""
    index_refresh_s: float = Field(default=15.0, gt=0)
    """Post the pool's price again after this long even if it did not change (keeps the source fresh)."""
    index_feeds: list[IndexFeed] | None = None
    """Price feeds read as index sources beside the pool (see `IndexFeed`); None: the deployment's
    `PriceFeed:<name>` feeds (a devnet), each of weight 1 and `index_feed_max_age_s`; [] reads none."""
    index_feed_max_age_s: int = Field(default=120, gt=0)
    """Staleness limit of the deployment's feeds when `index_feeds` is not given."""
    tick_interval_s: float = Field(default=1.0, gt=0)
    """How often the engine's clock is advanced (`tick`: breaker timers, funding, settlement)."""
    attestation_interval_s: float | None = Field(default=None, gt=0)
    """Seconds between proof-of-reserves attestations; default one hour, one minute on a devnet."""
    anchor_interval_s: float | None = Field(default=None, gt=0)
    """Seconds between anchors of the journal's hash-chain head (JournalAnchor); default: the attestation interval."""
    rebalance: bool = True
    """Keep the hot share of liabilities inside the band by moving hot <-> cold (`offchain/chain/rebalancer.py`)."""
    rebalance_low_bps: int = Field(default=6_000, gt=0, le=10_000)
    """Below this hot share of liabilities, a cold -> hot Safe transfer is proposed (seed 000: 60 %)."""
    rebalance_high_bps: int = Field(default=7_000, gt=0, le=10_000)
    """Above this hot share of liabilities, the excess goes to cold (`Custody.to_cold`; seed 000: 70 %)."""
    rebalance_interval_s: float = Field(default=15.0, gt=0)
    """Seconds between two rebalancing checks."""
    keeper_trip: bool = False
    """Trip the on-chain breaker of the pool when the engine's breaker halts the pool's market."""
    receipt_timeout_s: float = Field(default=30.0, gt=0)
    """Wait this long for a receipt before replacing a transaction with higher fees."""
    withdrawal_refund_after_s: float = Field(default=86_400.0, gt=0)
    """Refund a withdrawal Custody keeps refusing for a reason that may clear (the user's rolling outflow
    limit, an unexplained revert) once it is this old; one it can never pay is refunded at once."""

    markets: list[dict[str, Any]] = Field(default_factory=lambda: [dict(m) for m in DEFAULT_MARKETS])
    """Markets listed on a fresh journal (wire form: symbol, kind, base, quote, tick, lot...)."""
    collateral_weights: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_COLLATERAL_WEIGHTS))
    """Collateral weight (decimal fraction) of each deployment token listed on a fresh journal."""
    breaker_params: dict[str, dict[str, int | bool]] = Field(default_factory=dict)
    """Per market, engine breaker parameters (`BreakerParams` names, ppm and ms) set when it is listed."""

    withdrawal_window_s: int = Field(default=600, ge=1)
    """Early warning: the rolling window over which withdrawal requests are summed."""
    withdrawal_rate_alert_bps: int = Field(default=2_000, ge=1)
    """Alert when withdrawals requested in the window exceed this share of the hot reserves."""
    bank_run_bps: int = Field(default=6_000, ge=1)
    """Bank-run alert: window demand above this share of the hot reserves (seed 000: 60-70 %)."""
    hot_coverage_min_bps: int = Field(default=6_000, ge=0)
    """Alert when hot reserves cover less than this share of the engine's net liabilities."""
    large_transfers: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_LARGE_TRANSFERS))
    """Whole token units from which an ERC-20 transfer of a deployment token raises an alert."""

    halt_window: HaltWindowSettings = Field(default_factory=HaltWindowSettings)
    """The breaker's halt window from measured T_chain and T_DLP (`offchain/chain/halt_window.py`)."""
    early_warning_actions: EarlyWarningActions = Field(default_factory=EarlyWarningActions)
    """What the early warning does on its own besides alerting (`offchain/chain/early_warning.py`)."""

    market_makers: bool = False
    """Run the engine's market-maker program (`EngineConfig(makers=True)`: `maker` designations,
    compliance per period, rebates). A journal must always be opened with the same choice."""
    operators: list[str] = Field(default_factory=list)
    """Addresses whose EIP-712 signatures the operator API (`/ops/...`) accepts (designations)."""
    dlp_priority: bool = True
    """Credit a designated liquidity provider's Custody deposit at once (0 confirmations) while a
    market is halted, up to its bond (`offchain/chain/dlp.py`)."""
    dlp_min_bond: dict[str, str] = Field(default_factory=lambda: {"USDC": "100000"})
    """Criterion for a DLP designation: the least bond (whole units, per bond asset) held in its
    account; an asset not listed cannot be a bond."""
    dlp_quote_within_s: int = Field(default=60, ge=1)
    """Criterion (quoting obligation): during a halt, a DLP rests orders on the halted market within
    this many seconds of the trip; `/status` shows who meets it."""

    log_level: str = "INFO"
    """Python logging level of the daemon."""

    @field_validator("operators")
    @classmethod
    def _addresses(cls, operators: list[str]) -> list[str]:
        for address in operators:
            if not (address.startswith("0x") and len(address) == 42):
                raise ValueError(f"operator {address!r} is not an address")
            int(address[2:], 16)
        return operators

    @field_validator("index_feeds")
    @classmethod
    def _unique_feed_names(cls, feeds: list[IndexFeed] | None) -> list[IndexFeed] | None:
        names = [(f.market, f.name) for f in feeds or ()]
        if len(names) != len(set(names)):
            raise ValueError("two index feeds of one market share a name")
        return feeds

    @model_validator(mode="after")
    def _rebalance_band(self) -> DaemonSettings:
        if self.rebalance_low_bps > self.rebalance_high_bps:
            raise ValueError(
                f"rebalance_low_bps ({self.rebalance_low_bps}) is above rebalance_high_bps ({self.rebalance_high_bps})"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # CLI flags arrive as init arguments and win; then the environment; then the file.
        return (init_settings, env_settings, *cls._file_sources(settings_cls))

    @classmethod
    def _file_sources(cls, settings_cls: type[BaseSettings]) -> tuple[PydanticBaseSettingsSource, ...]:
        return ()

    @classmethod
    def load(cls, config_file: Path | str | None = None, **flags: Any) -> DaemonSettings:
        """Return the settings from `config_file` (TOML or JSON), the environment and `flags`.

        Flags that are None are not given. Raises `SettingsError` naming the bad field.
        """
        given = {k: v for k, v in flags.items() if v is not None}
        source_cls: type[DaemonSettings] = cls
        if config_file is not None:
            path = Path(config_file)
            if not path.is_file():
                raise SettingsError(f"settings file {path} does not exist")
            source_cls = _with_file(cls, path)
        try:
            return source_cls(**given)
        except ValidationError as exc:
            where = f" in {config_file}" if config_file else ""
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
            )
            raise SettingsError(f"bad settings{where}: {problems}") from None
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise SettingsError(f"settings file {config_file} does not parse: {exc}") from None

    # -- derived ----------------------------------------------------------------------------------
    def attestation_interval(self, devnet: bool) -> float:
        """Seconds between attestations: the setting, else one minute on a devnet and one hour elsewhere."""
        if self.attestation_interval_s is not None:
            return self.attestation_interval_s
        return 60.0 if devnet else 3600.0

    def deployment_path(self, chain_id: int) -> Path:
        """The deployment file: the setting, else `deployments/<chain_id>.json` (BREAKWATER_DEPLOYMENTS_DIR)."""
        if self.deployment is not None:
            return self.deployment
        return deployment_file(chain_id)

    def signer(self, chain_id: int) -> LocalAccount:
        """Return the daemon's key (see the module docstring for where it comes from)."""
        devnet = chain_id in DEVNET_CHAIN_IDS
        if self.keystore is not None:
            password = os.environ.get(self.keystore_password_env)
            if password is None:
                raise SettingsError(
                    f"keystore {self.keystore} needs its password in ${self.keystore_password_env}"
                )
            try:
                key = Account.decrypt(json.loads(Path(self.keystore).read_text()), password)
            except (OSError, ValueError) as exc:
                raise SettingsError(f"keystore {self.keystore} does not open: {exc}") from None
            return Account.from_key(key)
        raw = os.environ.get(self.private_key_env)
        if raw:
            if not devnet:
                raise SettingsError(
                    f"${self.private_key_env} is for devnets only (chain {chain_id}): use a keystore"
                )
            try:
                return Account.from_key(raw)
            except ValueError as exc:
                raise SettingsError(f"${self.private_key_env} is not a private key: {exc}") from None
        if devnet:
            return devnet_account(self.devnet_account)
        raise SettingsError(f"chain {chain_id} is not a devnet: give `keystore` (and its password variable)")


def devnet_account(index: int) -> LocalAccount:
    """Return anvil's test account `index` (the default mnemonic every devnet here starts with)."""
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEFAULT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def _with_file(cls: type[DaemonSettings], path: Path) -> type[DaemonSettings]:
    """Return a subclass of `cls` that also reads `path` (lowest priority after the defaults)."""
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise SettingsError(f"settings file {path}: use .toml or .json")

    class FromFile(cls):  # type: ignore[misc, valid-type]
        @classmethod
        def _file_sources(cls, settings_cls: type[BaseSettings]) -> tuple[PydanticBaseSettingsSource, ...]:
            if suffix == ".toml":
                return (TomlConfigSettingsSource(settings_cls, toml_file=path),)
            return (JsonConfigSettingsSource(settings_cls, json_file=path),)

    FromFile.__name__ = cls.__name__
    return FromFile
