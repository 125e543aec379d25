#!/usr/bin/env bash
# `make demo`: a local anvil devnet, the protocol deployed on it, and (as they land) the engine
# daemon, the market simulation and the dashboard. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${ANVIL_PORT:-8545}"
RPC="http://127.0.0.1:${PORT}"
export APE_FOUNDRY_HOST="$RPC"
mkdir -p var
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped"
}
trap cleanup INT TERM EXIT

if curl -s -o /dev/null -X POST -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$RPC"; then
  echo "something already answers on $RPC: stop it or set ANVIL_PORT" >&2
  exit 1
fi
.venv/bin/anvil --host 127.0.0.1 --port "$PORT" >var/anvil.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -s -o /dev/null -X POST -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$RPC" && break
  sleep 0.1
done
echo "anvil answering on $RPC (log: var/anvil.log)"

ape run deploy --network ethereum:local:foundry

if [ -n "${DEMO_EXIT_AFTER_DEPLOY:-}" ]; then exit 0; fi
echo "devnet running; Ctrl-C stops it"
wait
