"""The market-maker program: designated makers, their obligations, compliance per period, rebates."""
