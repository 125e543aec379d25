#!/usr/bin/env bash
# `make demo`: a local anvil devnet, the protocol deployed on it, the engine daemon (chain watcher,
# chain poster, API and dashboard) and a market simulation with a crash episode every few minutes.
# Ctrl-C stops everything this script started.
#
# Environment: ANVIL_PORT (8545), API_PORT (8000), DEMO_DIR (var/demo: journal, daemon state,
# logs; wiped at start since the devnet is new -- only after scripts/demo_preflight.sh found no
# running demo owning it (DEMO_DIR/demo.pid) and both ports free), BREAKWATER_DEPLOYMENTS_DIR (deployments/),
# DEMO_SECONDS (run the simulation this long, print a summary, stop: for tests),
# DEMO_EXIT_AFTER_DEPLOY (stop after the deploy), DEMO_FIRST_CRASH / DEMO_CRASH_EVERY (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${ANVIL_PORT:-8545}"
API_PORT="${API_PORT:-8000}"
RPC="http://127.0.0.1:${PORT}"
API="http://127.0.0.1:${API_PORT}"
DEMO_DIR="${DEMO_DIR:-var/demo}"
DEPLOYMENTS="${BREAKWATER_DEPLOYMENTS_DIR:-deployments}"
export APE_FOUNDRY_HOST="$RPC"
export BREAKWATER_DEPLOYMENTS_DIR="$DEPLOYMENTS"
PY=.venv/bin/python
# Nothing is deleted before this: a second `make demo` must leave the running one's files alone.
scripts/demo_preflight.sh "$DEMO_DIR" "$PORT" "$API_PORT" || exit 1
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR" "$DEPLOYMENTS"
DEMO_DIR="$(cd "$DEMO_DIR" && pwd)"
echo $$ >"$DEMO_DIR/demo.pid"
pids=()
cleanup() {
  trap - INT TERM EXIT
  rm -f "$DEMO_DIR/demo.pid"
  # Newest first: the simulation, then the daemon (it shuts down cleanly on SIGTERM), then anvil.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true; done
  echo "demo stopped"
}
trap cleanup INT TERM EXIT

probe() { $PY -m offchain.chain.probe "$@"; }
rpc_up() { probe rpc-up "$RPC"; }
if rpc_up; then
  echo "something already answers on $RPC: stop it or set ANVIL_PORT" >&2
  exit 1
fi
if probe http-ok "$API/status"; then
  echo "something already answers on $API: stop it or set API_PORT" >&2
  exit 1
fi
.venv/bin/anvil --host 127.0.0.1 --port "$PORT" >"$DEMO_DIR/anvil.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do rpc_up && break; sleep 0.1; done
echo "anvil answering on $RPC (log: $DEMO_DIR/anvil.log)"

ape run deploy --network ethereum:local:foundry

if [ -n "${DEMO_EXIT_AFTER_DEPLOY:-}" ]; then exit 0; fi

# Deployed: from now on a block every second, so that deposits confirm and the pool's price flows.
probe interval-mining "$RPC" 1

$PY -m offchain daemon --config scripts/demo_daemon.toml --rpc-url "$RPC" \
  --journal "sqlite:///$DEMO_DIR/journal.db" --state "$DEMO_DIR/daemon_state.db" \
  --api-port "$API_PORT" >"$DEMO_DIR/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do probe http-ok "$API/status" && break; sleep 0.2; done
if ! probe http-ok "$API/status"; then
  echo "the daemon did not start; its log:" >&2
  tail -n 40 "$DEMO_DIR/daemon.log" >&2
  exit 1
fi

$PY -m offchain.sim.market_maker --api "$API" --rpc "$RPC" --deployment "$DEPLOYMENTS/31337.json" \
  >"$DEMO_DIR/maker.log" 2>&1 &
pids+=($!)

$PY -m offchain.sim --api "$API" --rpc "$RPC" --deployment "$DEPLOYMENTS/31337.json" \
  --seconds "${DEMO_SECONDS:-0}" --first-crash "${DEMO_FIRST_CRASH:-60}" --crash-every "${DEMO_CRASH_EVERY:-180}" \
  >"$DEMO_DIR/sim.log" 2>&1 &
SIM=$!
pids+=($SIM)

echo
echo "Breakwater demo"
echo "  open               $API/   (the trading terminal, $API/terminal: burner wallet, one-click devnet funding)"
echo "  dashboard          $API/dashboard   (the operator's view: breaker, reserves, early warning)"
echo "  API                $API/api-docs   (schema: $API/openapi.json)"
echo "  JSON-RPC           $RPC   (ape console: make console)"
echo "  deployment         $DEPLOYMENTS/31337.json"
sed 's/^/    /' "$DEPLOYMENTS/31337.json"
echo "  logs               $DEMO_DIR/{daemon,sim,maker,anvil}.log"
echo "  a crash episode every ${DEMO_CRASH_EVERY:-180}s (first after ${DEMO_FIRST_CRASH:-60}s): watch the breaker halt USDE-USDC and reopen by auction"
echo "  index sources      pool (the on-chain pool's price_oracle), chainlink and redstone (Chainlink-style feeds, AggregatorV3Interface)"
echo "  DLP arrival        in each halt a designated liquidity provider deposits USDC through Custody, is credited"
echo "                     through the DLP priority channel before its confirmations, and bids (grep 'DLP arrival' sim.log)"
echo

if [ -n "${DEMO_SECONDS:-}" ]; then
  wait "$SIM" || true
  grep -E "index .* from [0-9]+ sources|DLP arrival" "$DEMO_DIR/sim.log" | cut -d' ' -f5- | sed 's/^/  /' || true
  tail -n 1 "$DEMO_DIR/sim.log"
  probe get "$API/status" "$DEMO_DIR/status.json" && echo "status saved to $DEMO_DIR/status.json"
  exit 0
fi
echo "Ctrl-C stops everything"
wait "$SIM"
