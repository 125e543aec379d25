"""Probes for shell scripts (`make demo`): does a node or a server answer? Standard library only,
so a probe starts fast and needs no curl on the machine."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path


def _rpc_call(url: str, method: str, params: list) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=2) as resp:
        return json.loads(resp.read())["result"]


def main(argv: list[str] | None = None) -> int:
    """Small probes for shell scripts (no curl needed): exit 0 when the thing answers."""
    parser = argparse.ArgumentParser(prog="python -m offchain.chain.probe")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("rpc-up", help="does a JSON-RPC node answer at URL?").add_argument("url")
    sub.add_parser("http-ok", help="does URL answer HTTP 2xx?").add_argument("url")
    mine = sub.add_parser("interval-mining", help="mine a block every SECONDS (anvil)")
    mine.add_argument("url")
    mine.add_argument("seconds", type=int)
    get = sub.add_parser("get", help="save the body of URL to FILE")
    get.add_argument("url")
    get.add_argument("file")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "rpc-up":
            _rpc_call(args.url, "eth_chainId", [])
        elif args.cmd == "interval-mining":
            _rpc_call(args.url, "evm_setIntervalMining", [args.seconds])
        else:
            with urllib.request.urlopen(args.url, timeout=5) as resp:
                body = resp.read()
            if args.cmd == "get":
                Path(args.file).write_bytes(body)
    except (OSError, KeyError, ValueError):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
