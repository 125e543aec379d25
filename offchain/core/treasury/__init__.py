"""The treasury: what the daemon owes the chain (withdrawals, bad-debt cover, protocol pause)."""
