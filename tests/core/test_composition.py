"""The composition root: one place wires the parts; parts see only narrow interfaces.

- every command of every module parses without importing that module first (no registration by
  import side effect);
- `build_engine(config)` wires what `EngineConfig` says, in the fixed hook order;
- the breaker's read model never changes engine state.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_breaker_engine import Exchange, deep_book

from offchain.core.breaker.module import BreakerModule
from offchain.core.breaker.readmodel import BreakerReadModel
from offchain.core.build import build_engine, restore_engine
from offchain.core.config import EngineConfig
from offchain.core.engine import Engine
from offchain.core.risk.module import RiskModule
from offchain.core.risk.spot import SpotRisk

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "wire",
    [
        '{"cmd": "dlp", "t": 0, "account": "mm"}',
        '{"cmd": "breaker", "t": 0, "symbol": "X", "set": {"t_buffer_ms": 1}}',
        '{"cmd": "margin", "t": 0, "account": "a", "enabled": true}',
        '{"cmd": "withdrawal_paid", "t": 0, "wid": 1}',
    ],
)
def test_a_modules_command_parses_with_only_the_codec_imported(wire):
    """A fresh interpreter imports the codec alone (not the module, not the engine) and parses."""
    code = (
        "import json, sys\n"
        "from offchain.core.messages.codec import command_from_dict, command_to_dict, parse_command\n"
        "class E: assets = {}; markets = {}\n"
        f"cmd = parse_command(json.loads({wire!r}), E())\n"
        "assert command_from_dict(command_to_dict(cmd)) == cmd\n"
        "assert not any(m.endswith(('.engine', '.build', 'breaker.module', 'risk.module', 'treasury.module'))"
        " for m in sys.modules), sorted(m for m in sys.modules if m.startswith('offchain'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={"PYTHONPATH": str(ROOT)})  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_build_engine_wires_what_the_config_says():
    assert [m.name for m in build_engine().modules] == ["risk", "breaker", "treasury"]
    assert [m.name for m in build_engine(EngineConfig.core()).modules] == []
    assert isinstance(build_engine(EngineConfig.core()).risk, SpotRisk)
    full = build_engine()
    risk, breaker, treasury = full.modules
    assert full.risk is risk.policy and breaker.collateral is risk.policy
    naive = build_engine(EngineConfig.naive())
    assert naive.modules[0].config.collateral_mark_source == "local"
    assert naive.modules[1].default_params.enabled is False
    # two engines never share module state or configs
    assert build_engine().modules[0].config is not build_engine().modules[0].config


def test_restore_engine_rebuilds_the_same_machine():
    x = Exchange()
    deep_book(x)
    config = EngineConfig(risk=False, treasury=False)
    assert restore_engine(x.engine.snapshot(), config).state_hash() == x.engine.state_hash()


def test_a_risk_module_needs_its_policy_as_the_engines_risk():
    with pytest.raises(ValueError, match="build_engine"):
        Engine(modules=[RiskModule()], risk=SpotRisk())


def test_reading_the_breaker_never_changes_state():
    x = Exchange()
    deep_book(x)
    x.limit("buyer", "buy", "1.0000", "100")
    x.limit("seller", "sell", "1.0000", "100")  # a trade: the V_P window has an entry
    breaker = next(m for m in x.engine.modules if isinstance(m, BreakerModule))
    before = x.engine.state_hash()
    window = list(breaker.monitors["USDE-USDC"].range._max)
    far = x.ts + 3_600_000  # an hour later: a probe there trims the whole 5-minute window
    metrics = BreakerReadModel(breaker, x.engine).live_metrics("USDE-USDC", far)
    assert metrics is not None and metrics.vp_ppm in (None, 0)
    assert list(breaker.monitors["USDE-USDC"].range._max) == window
    assert x.engine.state_hash() == before
    assert BreakerReadModel(breaker, x.engine).live_metrics("NOPE", far) is None
