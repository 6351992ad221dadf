"""No import cycle among agentchat's modules, deferred imports included (an import inside a function is how a cycle
hides: it runs, but the two modules are no longer separable, and the next change at module level breaks at start).

The graph is read from the source (ast), every `import` and `from ... import` anywhere in a module. The edges in
ALLOWED close a cycle on purpose, each for the reason given; the test also fails once one of them is gone, so that
the list only shrinks."""

import ast
from collections import defaultdict
from pathlib import Path

import agentchat

PACKAGE = Path(agentchat.__file__).parent

ALLOWED = {
    # aiobotocore is loaded only when AGENTCHAT_FILE_STORAGE names a bucket; s3.py implements storage.py's interface.
    ("agentchat.files.storage", "agentchat.files.s3"),
    # openpyxl and the PDF renderer are loaded only for the format a report is asked in; both build on renderers.py.
    ("agentchat.reports.renderers", "agentchat.reports.xlsx"),
    ("agentchat.reports.renderers", "agentchat.reports.pdf"),
    # Statuses Meta reported before a send's answer are applied once it returns (store.apply_early), and the store
    # builds on the sender for media: to be split by the WhatsApp channel's owners.
    ("agentchat.channels.whatsapp.outbound", "agentchat.channels.whatsapp.store"),
}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.relative_to(PACKAGE).parts:
            continue
        name = ".".join(("agentchat", *path.relative_to(PACKAGE).with_suffix("").parts))
        found[name.removesuffix(".__init__")] = path
    return found


def types_only(tree: ast.Module) -> set[ast.AST]:
    """The nodes under `if TYPE_CHECKING:`: imports there are read by type checkers, never run."""
    found: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            found.update(child for statement in node.body for child in ast.walk(statement))
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the agentchat modules it imports, at module level or inside a function (not for types only)."""
    known = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = types_only(tree)
        for node in ast.walk(tree):
            if node in skipped:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
                names = [name if name in known else node.module for name in names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                while name and name not in known:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    graph[module].add(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def test_no_import_cycle_but_the_allowed_ones():
    graph = import_graph()
    without_allowed = {module: targets - {t for (m, t) in ALLOWED if m == module} for module, targets in graph.items()}
    assert cycles(without_allowed) == []


def test_every_allowed_edge_still_exists():
    graph = import_graph()
    assert {(m, t) for (m, t) in ALLOWED if t not in graph.get(m, set())} == set()


def test_the_chats_service_imports_neither_tags_nor_routings_pass():
    """Queue-time auto-tagging and routing run from agentchat/queues.py, one level up."""
    imported = import_graph()["agentchat.chats.service"]
    assert not {"agentchat.tags.service", "agentchat.routing.service", "agentchat.queues"} & imported


def test_the_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
