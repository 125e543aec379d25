"""The debtors' register (SPEC §5, docs/por.md): every leaf that owes anything, published in full.

A Merkle-sum tree may hold a leaf with debt that nobody can see: its debt lowers the net
liabilities (equity - debt) the reserves are compared with, exactly as FTX counted a receivable
from an account nobody could inspect. So every leaf with a non-zero debt is published, with its
commitment and its equity and debt per asset; creditors (leaves without debt) stay private. The
debtors are the first leaves of the epoch's tree (`build_account_tree` orders them so), which
lets one short **boundary proof** (at most one node per level: the right neighbour of the debtors'
range where it ends inside a pair) tie all of them to the attested root at once, without showing
any creditor's path. The epoch's price and collateral haircut per asset are published and attested
with it, and anyone can check:

1. the entries are leaves 0, 1, ..., k-1 of the attested tree: from their leaves and the boundary
   nodes the attested root and totals are recomputed; each entry owes something;
2. the register is a Merkle-sum tree (the same leaf and node rules as the main tree) over the
   entries in index order; its root hash is the attested register root, its leaf count the
   attested debtor count, its equity sums the attested register equity, and its **debt sums are
   the epoch's total_debt**: together with 1 this shows that no other leaf owes anything;
3. every debtor's collateral covers its debt at the attested prices and haircuts:
   `sum(equity[i] * price[i] * (10000 - haircut[i])) >= sum(debt[i] * price[i] * 10000)`.

A fake debtor then has to show collateral, and its collateral is equity of the tree (a
liability the reserves must cover), so the trick gains nothing.

JSON form (`Register.to_json()`; amounts are decimal strings, bytes 0x-hex):

    {
      "format": "breakwater-por-register/1",
      "epoch": 7,
      "assets": ["0x…", …],
      "leaf_count": 1000,
      "root": {"hash": "0x…", "equity": […], "debt": […]},
      "prices": ["1000000000000000000000000000000", …],
      "haircuts_bps": [0, 1500, …],
      "register_root": {"hash": "0x…", "equity": […], "debt": […]},
      "debtors": [{"index": 0, "commitment": "0x…", "equity": […], "debt": […]}, …],
      "boundary": [{"level": 0, "hash": "0x…", "equity": […], "debt": […]}, …]
    }

Pure: no I/O. `offchain.chain.audit` reads the attested values from the chain and calls `audit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from offchain.por.hashing import MAX_ASSETS, Node, PorFormatError, check_sums, word
from offchain.por.hashing import leaf as _leaf
from offchain.por.hashing import parent as _parent
from offchain.por.proof import _amounts, _bytes32, _hex, _int, _list, _node, _node_json, _str_list
from offchain.por.tree import Leaf, Tree, build_tree

FORMAT = "breakwater-por-register/1"
BPS = 10_000


@dataclass(frozen=True, slots=True)
class Debtor:
    """One register entry: leaf `index` of the epoch's tree, which owes something."""

    index: int
    commitment: bytes
    equity: tuple[int, ...]
    debt: tuple[int, ...]

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "commitment": _hex(self.commitment),
            "equity": [str(v) for v in self.equity],
            "debt": [str(v) for v in self.debt],
        }

    @classmethod
    def from_json(cls, doc: object, where: str) -> Debtor:
        if not isinstance(doc, dict):
            raise PorFormatError(f"{where}: expected an object")
        return cls(
            index=_int(doc, "index"),
            commitment=_bytes32(doc.get("commitment"), f"{where}.commitment"),
            equity=_amounts(doc.get("equity"), f"{where}.equity"),
            debt=_amounts(doc.get("debt"), f"{where}.debt"),
        )


def boundary_positions(debtor_count: int, leaf_count: int) -> list[tuple[int, int]]:
    """Return the (level, position) of every boundary node of a register of the first
    `debtor_count` leaves of a tree of `leaf_count` leaves, from the bottom.

    At each level the debtors' range covers positions [0, m); when m is odd its last node needs its
    right neighbour m: a boundary node if the level has one, else the padding (empty) node.
    """
    out = []
    m, size, level = debtor_count, leaf_count, 0
    while size > 1:
        if m % 2 == 1 and m < size:
            out.append((level, m))
        m, size, level = (m + 1) // 2, (size + 1) // 2, level + 1
    return out


def prefix_root(leaves: Sequence[Node], boundary: Sequence[Node], leaf_count: int) -> Node:
    """Return the tree root recomputed from its first leaves and the boundary nodes (bottom up).

    Raise `PorFormatError` when the boundary has the wrong number of nodes or a sum overflows.
    """
    n = len(leaves[0].equity)
    expected = boundary_positions(len(leaves), leaf_count)
    if len(boundary) != len(expected):
        raise PorFormatError(f"the boundary proof needs {len(expected)} nodes, it has {len(boundary)}")
    for node in boundary:
        check_sums(node.equity, node.debt, n)
    given = iter(boundary)
    level = list(leaves)
    m, size = len(level), leaf_count
    while size > 1:
        if m % 2 == 1:
            level.append(next(given) if m < size else Node.empty(n))
        level = [_parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        m, size = len(level), (size + 1) // 2
    return level[0]


@dataclass(frozen=True, slots=True)
class Valuation:
    """What one debtor's collateral and debt are worth at the attested prices and haircuts."""

    collateral: int  # sum(equity[i] * price[i] * (10000 - haircut[i]))
    debt: int  # sum(debt[i] * price[i] * 10000)

    @property
    def covered(self) -> bool:
        return self.collateral >= self.debt

    @property
    def coverage_bps(self) -> int | None:
        """Collateral over debt in bps (None without debt)."""
        return None if self.debt == 0 else self.collateral * BPS // self.debt


def value(
    equity: Sequence[int], debt: Sequence[int], prices: Sequence[int], haircuts_bps: Sequence[int]
) -> Valuation:
    """Return a leaf's haircut collateral and debt in the epoch's unit of account (times 10000, exact)."""
    collateral = sum(e * p * (BPS - h) for e, p, h in zip(equity, prices, haircuts_bps, strict=True))
    owed = sum(d * p * BPS for d, p in zip(debt, prices, strict=True))
    return Valuation(collateral, owed)


def check_valuation(prices: Sequence[int], haircuts_bps: Sequence[int], n_assets: int) -> None:
    """Raise `PorFormatError` unless there is a price > 0 and a haircut in [0, 10000] per asset."""
    if len(prices) != n_assets or len(haircuts_bps) != n_assets:
        raise PorFormatError(f"prices and haircuts must have {n_assets} entries (one per asset)")
    for i, (p, h) in enumerate(zip(prices, haircuts_bps, strict=True)):
        word(p, f"price {i}")
        if p == 0:
            raise PorFormatError(f"price {i} is zero: every asset needs a price")
        if not isinstance(h, int) or isinstance(h, bool) or not 0 <= h <= BPS:
            raise PorFormatError(f"haircut {i} must be an integer in [0, 10000] bps, got {h!r}")


@dataclass(eq=False)
class Register:
    """An epoch's debtors' register: its valuation, its entries and (built on demand) its tree."""

    epoch: int
    assets: tuple[str, ...]
    leaf_count: int
    root: Node  # the epoch's main tree root
    prices: tuple[int, ...]
    haircuts_bps: tuple[int, ...]
    debtors: tuple[Debtor, ...]
    boundary: tuple[Node, ...] = ()  # the right neighbours of the debtors' range, from the bottom
    _tree: Tree | None = field(default=None, repr=False)

    @property
    def tree(self) -> Tree | None:
        """The register's Merkle-sum tree over the debtors in index order (None without debtors)."""
        if self._tree is None and self.debtors:
            leaves = [Leaf(d.commitment, d.equity, d.debt) for d in self.debtors]
            self._tree = build_tree(self.assets, leaves, epoch=self.epoch)
        return self._tree

    @property
    def register_root(self) -> Node:
        """The register's root: the empty node (hash 0, sums 0) without debtors."""
        tree = self.tree
        return Node.empty(len(self.assets)) if tree is None else tree.root

    def attestation(self) -> dict:
        """Return the register's keyword arguments of `ReserveRegistry.attest`."""
        root = self.register_root
        return {
            "register_root": root.hash,
            "register_equity": list(root.equity),
            "debtor_count": len(self.debtors),
            "prices": list(self.prices),
            "haircuts_bps": list(self.haircuts_bps),
        }

    def valuation(self, k: int) -> Valuation:
        """Return entry `k`'s collateral and debt value."""
        d = self.debtors[k]
        return value(d.equity, d.debt, self.prices, self.haircuts_bps)

    def challenge_args(self, k: int) -> tuple:
        """Return the arguments of `ReserveRegistry.challenge_debtor` for entry `k` (its register proof)."""
        tree = self.tree
        if tree is None:
            raise IndexError("the register is empty")
        return tree.proof(k).contract_args()[1:]

    def tree_root(self) -> Node:
        """Return the epoch's tree root recomputed from the entries and the boundary nodes."""
        leaves = [_leaf(d.commitment, d.equity, d.debt) for d in self.debtors]
        return prefix_root(leaves, self.boundary, self.leaf_count)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "epoch": self.epoch,
            "assets": list(self.assets),
            "leaf_count": self.leaf_count,
            "root": _node_json(self.root),
            "prices": [str(p) for p in self.prices],
            "haircuts_bps": list(self.haircuts_bps),
            "register_root": _node_json(self.register_root),
            "debtors": [d.to_json() for d in self.debtors],
            "boundary": [
                {"level": level, **_node_json(node)}
                for (level, _), node in zip(
                    boundary_positions(len(self.debtors), self.leaf_count), self.boundary, strict=False
                )
            ],
        }

    @classmethod
    def from_json(cls, doc: object) -> Register:
        """Parse the JSON form; raise `PorFormatError` naming the first bad field.

        The document's `register_root` is not trusted: the register's root is recomputed from
        the entries (`register_root`), and `audit` compares that with the attested one.
        """
        if not isinstance(doc, dict):
            raise PorFormatError("a register is a JSON object")
        if doc.get("format") != FORMAT:
            raise PorFormatError(f"format: expected {FORMAT!r}, got {doc.get('format')!r}")
        haircuts = _list(doc, "haircuts_bps")
        if not all(type(h) is int for h in haircuts):
            raise PorFormatError("haircuts_bps: expected a list of integers")
        return cls(
            epoch=_int(doc, "epoch"),
            assets=tuple(_str_list(doc, "assets")),
            leaf_count=_int(doc, "leaf_count"),
            root=_node(doc.get("root"), "root"),
            prices=_amounts(doc.get("prices"), "prices"),
            haircuts_bps=tuple(haircuts),
            debtors=tuple(Debtor.from_json(d, f"debtors[{k}]") for k, d in enumerate(_list(doc, "debtors"))),
            boundary=tuple(_node(b, f"boundary[{k}]") for k, b in enumerate(_list(doc, "boundary"))),
        )


def build_register(tree: Tree, prices: Sequence[int], haircuts_bps: Sequence[int]) -> Register:
    """Return the register of `tree`: every leaf with a non-zero debt, which must be its first
    leaves (`build_account_tree` puts them first), and the boundary nodes that tie them to the root.

    Raise `PorFormatError` when a leaf with debt follows one without.
    """
    n = len(tree.assets)
    check_valuation(prices, haircuts_bps, n)
    sums = tree.levels[0].sums[: tree.leaf_count]
    owing = np.flatnonzero(sums[:, n:, :].any(axis=(1, 2)))
    k = len(owing)
    if k and int(owing[-1]) != k - 1:
        gap = next(i for i, index in enumerate(owing.tolist()) if index != i)
        raise PorFormatError(
            f"leaf {int(owing[gap])} owes something after leaf {gap}, which does not: the debtors "
            "must be the tree's first leaves (build_account_tree orders them so)"
        )
    debtors = []
    for index in range(k):
        node = tree.leaf(index)
        debtors.append(Debtor(index, tree.commitments[index], node.equity, node.debt))
    boundary = tuple(tree.node(level, position) for level, position in boundary_positions(k, tree.leaf_count))
    return Register(
        tree.epoch,
        tree.assets,
        tree.leaf_count,
        tree.root,
        tuple(prices),
        tuple(haircuts_bps),
        tuple(debtors),
        boundary,
    )


def attest_args(
    tree: Tree,
    prices: Sequence[int] | None = None,
    haircuts_bps: Sequence[int] | None = None,
    register: Register | None = None,
) -> dict:
    """Return the keyword arguments of `ReserveRegistry.attest` for `tree`, in order.

    They include the epoch's debtors' register (`register`, else built here at `prices` and
    `haircuts_bps`). Without a valuation every asset is priced 1 per atom with no haircut: a
    stand-in for tests; the chain poster always passes the engine's prices and haircuts. It lives
    here, not on `Tree`, because the register is built from the tree (one direction of import).
    """
    root = tree.root
    if register is None:
        n = len(tree.assets)
        register = build_register(
            tree,
            (1,) * n if prices is None else prices,
            (0,) * n if haircuts_bps is None else haircuts_bps,
        )
    return {
        "epoch": tree.epoch,
        "root": root.hash,
        "assets": list(tree.assets),
        "total_equity": list(root.equity),
        "total_debt": list(root.debt),
        "leaf_count": tree.leaf_count,
        **register.attestation(),
    }


@dataclass(frozen=True, slots=True)
class Attested:
    """What the chain says about an epoch: the tree's root and sums and the register's."""

    epoch: int
    assets: tuple[str, ...]
    root: bytes
    leaf_count: int
    total_equity: tuple[int, ...]
    total_debt: tuple[int, ...]
    register_root: bytes
    debtor_count: int
    register_equity: tuple[int, ...]
    prices: tuple[int, ...]
    haircuts_bps: tuple[int, ...]

    @classmethod
    def from_attest_args(cls, args: dict) -> Attested:
        """Return what `ReserveRegistry.attest(**args)` posts (`attest_args(tree)` and
        `Register.attestation()` merged)."""
        return cls(
            epoch=args["epoch"],
            assets=tuple(args["assets"]),
            root=bytes(args["root"]),
            leaf_count=args["leaf_count"],
            total_equity=tuple(args["total_equity"]),
            total_debt=tuple(args["total_debt"]),
            register_root=bytes(args["register_root"]),
            debtor_count=args["debtor_count"],
            register_equity=tuple(args["register_equity"]),
            prices=tuple(args["prices"]),
            haircuts_bps=tuple(args["haircuts_bps"]),
        )


@dataclass
class AuditReport:
    """The outcome of `audit`: failures (plain words) and, per debtor, its valuation."""

    failures: list[str] = field(default_factory=list)
    uncovered: list[int] = field(default_factory=list)  # register positions of uncovered debtors
    valuations: list[Valuation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def audit(register: Register, attested: Attested) -> AuditReport:
    """Check the register against the attested epoch (the module docstring's three checks).

    Never raises on bad content: every problem is a failure in the report, a debtor named by
    its register position, tree index and commitment.
    """
    report = AuditReport()
    fail = report.failures.append
    n = len(attested.assets)
    if register.epoch != attested.epoch:
        fail(f"the register is for epoch {register.epoch}, the attestation for epoch {attested.epoch}")
    if [a.lower() for a in register.assets] != [a.lower() for a in attested.assets]:
        fail(f"the register lists assets {list(register.assets)}, the attestation {list(attested.assets)}")
        return report
    if tuple(register.prices) != tuple(attested.prices):
        fail("the register's prices differ from the attested prices")
    if tuple(register.haircuts_bps) != tuple(attested.haircuts_bps):
        fail("the register's haircuts differ from the attested haircuts")
    if register.leaf_count != attested.leaf_count:
        fail(f"the register says {register.leaf_count} leaves, the attestation {attested.leaf_count}")
    try:
        check_valuation(attested.prices, attested.haircuts_bps, n)
    except PorFormatError as exc:
        fail(f"attested valuation: {exc}")
        return report
    if len(register.debtors) != attested.debtor_count:
        fail(f"the register has {len(register.debtors)} debtors, the attestation {attested.debtor_count}")

    well_formed = True
    for k, d in enumerate(register.debtors):
        who = _who(k, d)
        try:
            check_sums(d.equity, d.debt, n)
        except PorFormatError as exc:
            fail(f"{who}: {exc}")
            report.valuations.append(Valuation(0, 0))
            well_formed = False
            continue
        if d.index != k:
            fail(f"{who}: entry {k} must be leaf {k} (the debtors are the tree's first leaves, in order)")
        if not any(d.debt):
            fail(f"{who}: owes nothing (only leaves with debt are in the register)")
        if any(e and b for e, b in zip(d.equity, d.debt, strict=True)):
            fail(f"{who}: both equity and debt in one asset (one of the two is zero)")
        valuation = value(d.equity, d.debt, attested.prices, attested.haircuts_bps)
        report.valuations.append(valuation)
        if not valuation.covered:
            report.uncovered.append(k)
            fail(
                f"{who}: collateral does not cover its debt at the attested prices and haircuts "
                f"({_bps(valuation.coverage_bps)} of its debt)"
            )

    if well_formed and register.debtors:
        _check_tied(register, attested, fail)
    try:
        root = register.register_root
    except PorFormatError as exc:
        fail(f"the register's tree cannot be built: {exc}")
        return report
    if root.hash != attested.register_root:
        fail(
            f"the register's root is {_hex(root.hash)}, the attested register root {_hex(attested.register_root)}"
        )
    if root.debt != tuple(attested.total_debt):
        fail(
            f"the register's debts sum to {list(root.debt)}, the attested total_debt is "
            f"{list(attested.total_debt)}: a debtor is missing from the register"
        )
    if root.equity != tuple(attested.register_equity):
        fail(
            f"the register's equity sums to {list(root.equity)}, the attested {list(attested.register_equity)}"
        )
    return report


def _check_tied(register: Register, attested: Attested, fail) -> None:
    """Fail unless the entries, as the tree's first leaves, and the boundary lead to the attested root."""
    if len(register.debtors) > attested.leaf_count:
        fail(f"the register lists {len(register.debtors)} debtors, the tree has {attested.leaf_count} leaves")
        return
    try:
        top = prefix_root(
            [_leaf(d.commitment, d.equity, d.debt) for d in register.debtors],
            register.boundary,
            attested.leaf_count,
        )
    except PorFormatError as exc:
        fail(f"the debtors are not tied to the tree: {exc}")
        return
    if (top.hash, top.equity, top.debt) != (
        attested.root,
        tuple(attested.total_equity),
        tuple(attested.total_debt),
    ):
        fail(
            "the debtors and the boundary nodes do not lead to the attested root and totals: "
            "the entries are not the tree's first leaves"
        )


def _who(k: int, d: Debtor) -> str:
    return f"debtor {k} (leaf {d.index}, commitment {_hex(d.commitment)})"


def _bps(bps: int | None) -> str:
    return "no debt" if bps is None else f"{bps // 100}.{bps % 100:02d} %"


__all__ = [
    "BPS",
    "FORMAT",
    "MAX_ASSETS",
    "Attested",
    "AuditReport",
    "Debtor",
    "Register",
    "Valuation",
    "audit",
    "boundary_positions",
    "build_register",
    "check_valuation",
    "prefix_root",
    "value",
]
