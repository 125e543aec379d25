"""The engine core: pure, deterministic, integer. The tree is the architecture (docs/engine.md):
`build.build_engine(config)` wires `engine.Engine` with the `risk`, `breaker` and `treasury` modules;
`messages` is what goes in and out, `model` the data, `matching` the order flow."""
