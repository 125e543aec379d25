"""Fail when the import graph of a package has a cycle (`make lint` runs it on `offchain`).

import-linter 2.1 has layers, independence and forbidden contracts but no acyclic one, so this
script asks grimp (import-linter's graph library) for the graph and reports every strongly
connected component of more than one module, with one cycle through it spelled out.

Imports under `if TYPE_CHECKING:` count (an annotation that needs a module back is a cycle too), and
so do imports inside functions (the lazy import that hides a cycle at import time).

`KNOWN` lists the cycles that existed outside the core when this check was added, each with the
reason: they are reported but do not fail the lint; any other cycle (or a known one that grows)
fails it. Remove an entry when its cycle is gone.

    python scripts/import_cycles.py offchain [--root DIR]
"""

from __future__ import annotations

import argparse
import sys

KNOWN: dict[frozenset[str], str] = {}


def import_edges(package: str) -> dict[str, list[str]]:
    """Return `module -> modules it imports` inside `package` (TYPE_CHECKING imports included)."""
    import grimp

    graph = grimp.build_graph(package, cache_dir=None)
    return {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}


def _components(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), those of two or more nodes, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges.get(nxt, ()))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        comp.append(member)
                        if member == node:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return sorted(found)


def _one_cycle(component: list[str], edges: dict[str, list[str]]) -> list[str]:
    """A shortest path from the component's first module back to itself, inside the component."""
    start, members = component[0], set(component)
    prev: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for nxt in edges.get(node, ()):
            if nxt not in members:
                continue
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, node, start]
            if nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return component


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", default="offchain")
    parser.add_argument("--root", help="directory to import the package from (default: the path)")
    args = parser.parse_args(argv)
    if args.root:
        sys.path.insert(0, args.root)
    edges = import_edges(args.package)
    found = _components(edges)
    known = [c for c in found if frozenset(c) in KNOWN]
    new = [c for c in found if frozenset(c) not in KNOWN]
    for comp in known:
        print(
            f"known import cycle (not failing; {KNOWN[frozenset(comp)]}): "
            + " -> ".join(_one_cycle(comp, edges))
        )
    if not new:
        print(f"import cycles: none new in {args.package} ({len(edges)} modules, {len(known)} known)")
        return 0
    for comp in new:
        print(f"import cycle ({len(comp)} modules): " + " -> ".join(_one_cycle(comp, edges)))
    print(f"import cycles: {len(new)} BROKEN")
    return 1


if __name__ == "__main__":
    sys.exit(main())
