"""The cluster mode: gateways and engine replicas around a replicated NATS JetStream log.

The embedded default (`python -m offchain serve|daemon`, SQLite) is untouched; this package is used
only when a program is given `--log nats://...`. docs/cluster.md describes the topology.

- `core_port`: the one module that imports the engine core (re-pointing the core is one edit).
- `log`: stream, bucket and subject names, the command envelope, `connect` and `ensure`.
- `replica`: the deterministic state machine a replica runs (engine + request dedup), no I/O.
- `engine`: `python -m offchain engine --log ...`: a replica, leader or hot standby.
- `gateway`: `python -m offchain gateway --log ...`: signed order entry that publishes to the log.
- `nats_local`: start and stop a local N-node nats-server cluster (tests, bench, demo).
"""
