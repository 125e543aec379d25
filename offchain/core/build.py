"""The composition root: the one file that imports every part and wires them into an `Engine`.

`build_engine(config)` makes the modules `config` asks for, in the fixed order their hooks run (risk,
then the breaker, then the treasury), hands each the narrow interface it needs (the breaker the risk
policy's collateral seams, the treasury the risk module's written-off bad debt) and gives the engine
its risk policy. `restore_engine(data, config)` does the same around a snapshot. Nothing else
imports more than one module; modules never import engine.py or each other (see .importlinter).
"""

from __future__ import annotations

import copy

from offchain.core.breaker.module import BreakerModule
from offchain.core.config import EngineConfig
from offchain.core.engine import Engine
from offchain.core.makers.module import MakersModule
from offchain.core.messages.breaker import DesignateDlp
from offchain.core.ports import Module, RiskPolicy
from offchain.core.risk.module import RiskModule
from offchain.core.risk.spot import SpotRisk
from offchain.core.risk.state import RiskConfig
from offchain.core.treasury.module import TreasuryModule

DEFAULT_CONFIG = EngineConfig()


def build_parts(config: EngineConfig = DEFAULT_CONFIG) -> tuple[list[Module], RiskPolicy]:
    """Return fresh `(modules, risk policy)` for `config` (what `build_engine` passes to `Engine`)."""
    modules: list[Module] = []
    risk_module = None
    policy: RiskPolicy
    if config.risk:
        risk_config = copy.deepcopy(config.risk_config) if config.risk_config is not None else RiskConfig()
        risk_module = RiskModule(risk_config, collateral_mark_source=config.collateral_mark_source)
        policy = risk_module.policy
        modules.append(risk_module)
    else:
        policy = SpotRisk()
    if config.breaker:
        collateral = risk_module.policy if risk_module is not None else None
        modules.append(BreakerModule(config.breaker_params, config.breaker_enabled, collateral=collateral))
    if config.treasury:
        bad_debt = (lambda asset: risk_module.bad_debt.get(asset, 0)) if risk_module is not None else None
        modules.append(TreasuryModule(bad_debt=bad_debt))
    if config.makers:
        breaker = next((m for m in modules if isinstance(m, BreakerModule)), None)
        # a designated maker is a designated liquidity provider: the breaker's own `dlp` handler
        dlp = (
            (lambda ts, account, on: breaker._on_designate(DesignateDlp(ts, account, on)))
            if breaker
            else None
        )
        modules.append(MakersModule(dlp=dlp))
    modules.extend(factory() for factory in config.extra_modules)
    return modules, policy


def build_engine(config: EngineConfig = DEFAULT_CONFIG) -> Engine:
    """Return a fresh engine wired as `config` says (default: what the daemon and replay run)."""
    modules, policy = build_parts(config)
    return Engine(modules=modules, fee_schedule=copy.deepcopy(config.fee_schedule), risk=policy)


def restore_engine(data: bytes, config: EngineConfig = DEFAULT_CONFIG) -> Engine:
    """Rebuild an engine from `Engine.snapshot()` bytes, wired as `build_engine(config)` would be."""
    modules, policy = build_parts(config)
    return Engine.restore(data, modules=modules, risk=policy)


def risk_module(engine: Engine) -> RiskModule | None:
    """Return the engine's risk module, or None (for adapters that read risk state)."""
    for m in engine.modules:
        if isinstance(m, RiskModule):
            return m
    return None


def breaker_module(engine: Engine) -> BreakerModule | None:
    """Return the engine's breaker module, or None."""
    for m in engine.modules:
        if isinstance(m, BreakerModule):
            return m
    return None


def makers_module(engine: Engine) -> MakersModule | None:
    """Return the engine's market-maker module, or None."""
    for m in engine.modules:
        if isinstance(m, MakersModule):
            return m
    return None


def treasury_module(engine: Engine) -> TreasuryModule | None:
    """Return the engine's treasury module, or None."""
    for m in engine.modules:
        if isinstance(m, TreasuryModule):
            return m
    return None
