"""The circuit breaker (SPEC §3): the rule (`rule`), the engine module (`module`) and a read model."""
