"""The shared sequencer: commands from several threads, one order, time that never goes back."""

import threading

from offchain.core.messages import commands as C
from offchain.service import ExchangeService
from offchain.store.journaled import JournaledEngine


def make_service(tmp_path, clock):
    runner = JournaledEngine.open(f"sqlite:///{tmp_path / 'journal.db'}")
    return ExchangeService(runner, clock_ms=clock)


def test_commands_are_stamped_with_the_service_clock_and_never_go_backwards(tmp_path):
    times = iter([5_000, 4_000, 6_000])
    service = make_service(tmp_path, lambda: next(times))
    service.submit(C.AddAsset(0, "USDC", 6, 1_000_000))
    service.submit(C.Deposit(0, "market_maker", "USDC", 1_000))
    service.submit(C.Deposit(0, "market_maker", "USDC", 2_000))
    stamps = [ts for _, rec in service.runner.store.read_from(1) for ts in [rec["ts"]]]
    assert stamps == [5_000, 5_000, 6_000]
    assert service.read(lambda e: e.balance("market_maker", "USDC")) == 3_000


def test_subscribers_see_every_event_once_in_sequence_order_across_threads(tmp_path):
    clock = iter(range(1, 10_000))
    service = make_service(tmp_path, lambda: next(clock))
    service.submit(C.AddAsset(0, "USDC", 6, 1_000_000))
    seen: list[dict] = []
    unsubscribe = service.subscribe(seen.extend)

    def depositor(name):
        for _ in range(25):
            service.submit(C.Deposit(0, name, "USDC", 10))

    workers = [threading.Thread(target=depositor, args=(f"trader{i}",)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    unsubscribe()
    service.submit(C.Deposit(0, "trader0", "USDC", 10))

    deposits = [e for e in seen if e["event"] == "deposited"]
    assert len(deposits) == 100
    assert [e["ts"] for e in seen] == sorted(e["ts"] for e in seen)
    assert (
        sum(service.read(lambda e, n=n: e.balance(n, "USDC")) for n in [f"trader{i}" for i in range(4)])
        == 1_010
    )


def test_the_latest_proof_is_served_per_account_and_replaced_by_the_next_epoch(tmp_path):
    service = make_service(tmp_path, lambda: 1)
    assert service.por_epoch() is None
    service.publish_por({"epoch": 1, "root": "0xaa"}, {"0xabc": {"salt": "0x01"}})
    assert service.por_proof("0xABC")["salt"] == "0x01"
    service.publish_por({"epoch": 2, "root": "0xbb"}, {"0xdef": {"salt": "0x02"}})
    assert service.por_epoch()["epoch"] == 2
    assert service.por_proof("0xabc") is None
