"""The journaled engine: every command is durable in the store before the engine applies it.

This is the engine the daemon, the API and the replay tool drive:

    runner = JournaledEngine.open("sqlite:///var/lib/breakwater/journal.db")
    events = runner.submit(cmd)          # journaled (fsync) -> applied -> events returned

Order of work in `submit`: encode the command, append it to the journal under the next sequence
number (durable when `append` returns, see the store's fsync policy), apply it, and only then
return its events. A command whose events anyone has seen is therefore always in the journal; a
crash between the append and the return loses no acknowledged command (the journaled but
unacknowledged one is replayed on recovery, exactly as a deterministic engine would have run it).
Rejected commands are journaled too: they are inputs, and replay rejects them the same way.

Recovery (`open`) = the latest snapshot, checked against its recorded `state_hash`, plus a replay
of every journal entry after it. A snapshot is taken every `snapshot_every` commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from offchain.core.build import build_engine
from offchain.core.config import EngineConfig
from offchain.core.engine import Engine
from offchain.core.messages.codec import command_from_dict, command_to_dict
from offchain.store import Store, open_store

DEFAULT_SNAPSHOT_EVERY = 10_000


class RecoveryError(Exception):
    """The store cannot be turned back into an engine (bad snapshot, gap in the journal...)."""


class JournaledEngine:
    """An `Engine` whose every command is journaled before it is applied."""

    def __init__(
        self,
        store: Store,
        engine: Engine,
        seq: int,
        *,
        snapshot_seq: int = 0,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
    ) -> None:
        if snapshot_every < 1:
            raise ValueError("snapshot_every must be at least 1")
        self.store = store
        self.engine = engine
        self.seq = seq  # the last journaled (and applied) command
        self.snapshot_seq = snapshot_seq
        self.snapshot_every = snapshot_every
        self._failed: BaseException | None = None

    # -- recovery ------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        store: str | Store,
        *,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
        engine_factory: Callable[[], Engine] | None = None,
        use_snapshot: bool = True,
        config: EngineConfig | None = None,
    ) -> JournaledEngine:
        """Recover the engine a store holds (an empty store gives a fresh engine).

        The genesis engine is `build_engine(config)` (default: `EngineConfig()`), or what
        `engine_factory` builds: it must be the same for every run over one journal, since the
        journal replays onto it. `use_snapshot=False`
        replays the whole journal from the genesis engine, ignoring snapshots.
        """
        if isinstance(store, str):
            opened = open_store(store)
            try:
                return cls.open(
                    opened,
                    snapshot_every=snapshot_every,
                    engine_factory=engine_factory,
                    use_snapshot=use_snapshot,
                    config=config,
                )
            except BaseException:
                opened.close()
                raise
        fresh = engine_factory() if engine_factory is not None else build_engine(config or EngineConfig())
        snap = store.latest() if use_snapshot else None
        if snap is None:
            engine, seq = fresh, 0
        else:
            try:
                engine = type(fresh).restore(snap.blob, modules=fresh.modules, risk=fresh.risk)
            except Exception as exc:
                raise RecoveryError(f"snapshot at seq {snap.seq} does not restore: {exc}") from exc
            if engine.state_hash() != snap.state_hash:
                raise RecoveryError(
                    f"snapshot at seq {snap.seq} restores to state {engine.state_hash()}, "
                    f"not the recorded {snap.state_hash}; recover with use_snapshot=False"
                )
            seq = snap.seq
        replayed = 0
        for entry_seq, record in store.read_from(seq + 1):
            if entry_seq != seq + 1:
                raise RecoveryError(f"journal gap: entry {entry_seq} follows {seq}")
            try:
                engine.apply(command_from_dict(record))
            except Exception as exc:
                raise RecoveryError(f"replaying journal entry {entry_seq} failed: {exc!r}") from exc
            seq = entry_seq
            replayed += 1
        runner = cls(store, engine, seq, snapshot_seq=snap.seq if snap else 0, snapshot_every=snapshot_every)
        if replayed >= snapshot_every:
            runner.snapshot()  # the next recovery need not replay this tail again
        return runner

    # -- the write path ------------------------------------------------------------------------
    def submit(self, cmd: Any) -> list:
        """Journal `cmd` durably, apply it and return its events."""
        self._check_usable()
        seq = self.seq + 1
        self.store.append(seq, command_to_dict(cmd))
        self.seq = seq
        events = self._apply(cmd)
        if seq - self.snapshot_seq >= self.snapshot_every:
            self.snapshot()
        return events

    def submit_many(self, cmds: Iterable[Any], nonces: Iterable[tuple[str, str, int]] = ()) -> list[list]:
        """Journal a batch with one durable commit, then apply each; return each command's events.

        This is group commit: the fsync is paid once per batch, so a sequencer that acknowledges a
        batch of commands together keeps the same guarantee at a fraction of the cost. `nonces`
        (used-nonce rows of the signed requests behind `cmds`) are written in the same transaction.
        """
        self._check_usable()
        cmds = list(cmds)
        first = self.seq + 1
        self.store.append_many(
            [(first + i, command_to_dict(cmd)) for i, cmd in enumerate(cmds)], nonces=nonces
        )
        out = []
        for cmd in cmds:
            self.seq += 1
            out.append(self._apply(cmd))
        if self.seq - self.snapshot_seq >= self.snapshot_every:
            self.snapshot()
        return out

    def snapshot(self) -> None:
        """Save the engine state after the last applied command."""
        self._check_usable()
        self.store.save(self.seq, self.engine.snapshot(), self.engine.state_hash())
        self.snapshot_seq = self.seq

    def _apply(self, cmd: Any) -> list:
        try:
            return self.engine.apply(cmd)
        except BaseException as exc:
            # The engine may be half way through the command: its memory no longer equals journal
            # replay. Refuse further commands; recovery (`open`) rebuilds a consistent engine and
            # replays this command again, which surfaces the same error.
            self._failed = exc
            raise

    def _check_usable(self) -> None:
        if self._failed is not None:
            raise RuntimeError(
                f"engine failed applying journal entry {self.seq} ({self._failed!r}); reopen the store to recover"
            )

    # -- reads and lifecycle -------------------------------------------------------------------
    def state_hash(self) -> str:
        return self.engine.state_hash()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> JournaledEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
