"""The autograd graph of a result's tensor, drawn in the terminal as a tree.

``g`` on a cell whose result holds a tensor with a ``grad_fn`` opens :class:`GraphScreen`:
from the tensor's ``grad_fn`` down through every backward node to the leaves it
reaches, each leaf named as the snippet names it, ``●`` where it requires grad (a
backward fills its ``.grad``) and ``○`` where it does not (a constant to autograd). A
node reached twice (a tensor used twice) is drawn once and pointed back to after.

The graph comes from the run's inspection (``graph`` on a variable: see
``tutor.sandbox.inspection.describe_graph``); the server checked its types, and the
indices are checked here, so a forged graph draws as far as it makes sense.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from rich.tree import Tree
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor import present as fmt
from tutor.app.widgets.footer import Footer
from tutor.i18n import N_, _
from tutor.sandbox.api import GraphJson, GraphNodeJson, VariableJson

HINT = N_("g shows the autograd graph")
LEGEND = N_("● requires grad: backward() fills its .grad   ○ no grad: a constant")


@dataclass(frozen=True)
class TensorGraph:
    """One tensor of a result and the graph behind it."""

    name: str
    shape: list[int] | None
    graph: GraphJson


def tensor_graphs(variables: list[VariableJson]) -> list[TensorGraph]:
    """The tensors of a run that carry a graph, in the snippet's order."""
    found = []
    for variable in variables:
        graph = variable.get("graph") if isinstance(variable, dict) else None
        if isinstance(graph, dict) and isinstance(graph.get("nodes"), list) and graph["nodes"]:
            shape = variable.get("shape")
            found.append(TensorGraph(str(variable.get("name", "?")), shape if isinstance(shape, list) else None, graph))
    return found


def _shape(shape: object) -> str:
    return fmt.shape_text(shape) if isinstance(shape, list) else ""


def _node_label(node: GraphNodeJson) -> Text:
    leaf = node.get("leaf")
    op = node.get("op")
    if not isinstance(leaf, dict):
        return Text(str(op), style="bold")
    name = leaf.get("name")
    shape = _shape(leaf.get("shape"))
    label = Text()
    if leaf.get("requires_grad"):
        label.append(fmt.narrow("● "), style="green")
        label.append(str(name) if name else _("a leaf"), style="bold green")
        label.append(f" {shape}".rstrip())
        label.append(fmt.sep() + _("requires grad"), style="green")
        if op:
            label.append(f" ({op})", style="dim")
    else:
        label.append(fmt.narrow("○ "), style="dim")
        # Without a name or a shape it was not a tensor of the snippet's: the 1 in w + 1.
        label.append(str(name) if name else _("a tensor") if shape else _("a constant"), style="bold")
        label.append(f" {shape}".rstrip())
        label.append(fmt.sep() + _("no grad"), style="dim")
    return label


def graph_tree(item: TensorGraph) -> Tree:
    """The graph as a Rich tree, rooted at the tensor itself."""
    nodes = item.graph.get("nodes", [])
    root = Tree(Text.assemble((item.name, "bold"), f" {_shape(item.shape)}".rstrip(), ("  " + _("the result"), "dim")),
                guide_style="dim")
    drawn: set[int] = set()

    def draw(parent: Tree, index: int) -> None:
        node = nodes[index]
        if index in drawn:
            parent.add(Text.assemble(_node_label(node), ("  " + fmt.narrow(_("↑ drawn above")), "dim")))
            return
        drawn.add(index)
        branch = parent.add(_node_label(node))
        for child in node.get("next", []):
            if isinstance(child, int) and 0 <= child < len(nodes):
                draw(branch, child)

    if nodes:
        draw(root, 0)
    if item.graph.get("truncated"):
        root.add(Text(fmt.narrow("… ") + _("the graph goes on: only its first {n} nodes are kept").format(n=len(nodes)), style="dim italic"))
    return root


class GraphScreen(ModalScreen[None]):
    """The graph of one tensor at a time; left and right go to the result's others."""

    DEFAULT_CSS = """
    GraphScreen { align: center middle; }
    GraphScreen #graph-box {
        width: 100%; height: 100%; border: round $accent; background: $surface; padding: 0 1;
    }
    GraphScreen #graph-title { text-style: bold; height: auto; }
    GraphScreen #graph-legend { color: $text-muted; height: auto; }
    GraphScreen #graph-scroll { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("g", "dismiss", "Close", show=False),
        # Above the scroll's own left/right: the tree wraps, it never scrolls sideways.
        Binding("left", "other(-1)", "Previous tensor", priority=True),
        Binding("right", "other(1)", "Next tensor", priority=True),
    ]

    def __init__(self, graphs: list[TensorGraph], start: int | None = None) -> None:
        super().__init__()
        self.graphs = graphs
        #: The graph shown: the last by default, the snippet's result (a loss) as a rule.
        self.current = len(graphs) - 1 if start is None else start

    def compose(self) -> ComposeResult:
        with Vertical(id="graph-box"):
            yield Static(id="graph-title", markup=False)
            with VerticalScroll(id="graph-scroll"):
                yield Static(id="graph-tree")
            yield Static(_(LEGEND), id="graph-legend", markup=False)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self._show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "other":
            return len(self.graphs) > 1
        return True

    def _show(self) -> None:
        item = self.graphs[self.current]
        count = _(" ({n} of {total})").format(n=self.current + 1, total=len(self.graphs)) if len(self.graphs) > 1 else ""
        self.query_one("#graph-title", Static).update(
            _("autograd graph of {name}{count}").format(name=item.name, count=count) + fmt.sep() + _("backward() flows down to the leaves"))
        self.query_one("#graph-tree", Static).update(graph_tree(item))
        self.query_one("#graph-scroll").scroll_home(animate=False)

    def action_other(self, step: int) -> None:
        self.current = (self.current + step) % len(self.graphs)
        self._show()
