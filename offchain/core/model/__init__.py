"""The data the rules work on: assets and markets, accounts, orders, trading states, fee schedules."""
