"""Child process for the durability test: journal records and acknowledge each one on stdout.

    python tests/store/journal_writer.py STORE_URL COUNT

Prints `ack <seq>` after each `append` returns; the parent kills it with SIGKILL mid-stream.
"""

from __future__ import annotations

import sys

from offchain.store import open_store


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    store = open_store(url)
    start = store.last_seq() + 1
    for seq in range(start, start + count):
        store.append(
            seq, {"cmd": "deposit", "ts": seq, "account": f"trader-{seq % 7}", "amount": seq * 10**18}
        )
        sys.stdout.write(f"ack {seq}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
