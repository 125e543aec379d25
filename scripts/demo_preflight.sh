#!/usr/bin/env bash
# Pre-flight of `make demo` (scripts/demo.sh), run before it deletes anything: refuse (exit 1, with the
# reason on stderr) when a demo still owns DEMO_DIR (its pid file names a live process) or when
# something listens on the anvil or API port. It deletes nothing and starts nothing.
#
# Usage: scripts/demo_preflight.sh DEMO_DIR ANVIL_PORT API_PORT
set -uo pipefail
dir="$1" anvil_port="$2" api_port="$3"
lock="$dir/demo.pid"
if [[ -f "$lock" ]]; then
  owner="$(cat "$lock" 2>/dev/null || true)"
  if [[ "$owner" =~ ^[0-9]+$ ]] && kill -0 "$owner" 2>/dev/null; then
    echo "a demo (pid $owner) is running on $dir: stop it first, or set DEMO_DIR" >&2
    exit 1
  fi
fi
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if listening "$anvil_port"; then
  echo "something already listens on port $anvil_port: stop it or set ANVIL_PORT" >&2
  exit 1
fi
if listening "$api_port"; then
  echo "something already listens on port $api_port: stop it or set API_PORT" >&2
  exit 1
fi
