import re
import shutil

import numpy as np
import pytest

import chainrule.functional as F
from chainrule import Tensor, nn
from chainrule.diagnostics import draw_graph, graph_nodes


def mlp_loss():
    g = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 4, generator=g), nn.ReLU(), nn.Linear(4, 2, generator=g))
    x = np.ones((5, 3), dtype=np.float32)
    return model, F.cross_entropy(model(x), np.array([0, 1, 0, 1, 0]))


def parse(dot):
    nodes = dict(re.findall(r"^\s+(\w+) \[.*?label=\"(.*?)\"", dot, flags=re.M))
    edges = re.findall(r"^\s+(\w+) -> (\w+);", dot, flags=re.M)
    return nodes, edges


def test_dot_has_every_op_tensor_and_edge_of_an_mlp():
    model, loss = mlp_loss()
    dot = draw_graph(loss, params=dict(model.named_parameters()))
    nodes, edges = parse(dot)
    labels = sorted(nodes.values())
    # ops: Linear, ReLU, Linear, the loss; tensors: input, 4 parameters, 2 hidden, logits, loss
    assert sum(label == "Linear" for label in labels) == 2
    assert "ReLU" in labels
    for name, shape in [("0.weight", "4×3"), ("0.bias", "4"), ("2.weight", "2×4"), ("2.bias", "2")]:
        assert f"{name} ({shape})" in labels
    assert "5×3" in labels and "5×2" in labels and "scalar" in labels
    ids = {label: node for node, label in nodes.items()}
    # the first Linear takes the input and both its parameters, and feeds the ReLU's input
    first = [n for n, label in nodes.items() if label == "Linear"]
    into_first = {a for a, b in edges if b in first}
    assert ids["0.weight (4×3)"] in into_first and ids["5×3"] in into_first
    tensors, ops, _ = graph_nodes(loss)
    assert len(ops) == 4 and len(tensors) == 9  # x, 4 parameters, 3 activations, loss
    assert len(edges) == sum(len([i for i in op.inputs if i is not None]) for op in ops) + len(ops)


def test_shared_input_is_one_node_with_two_edges():
    x = Tensor(np.ones(3), requires_grad=True)
    y = (x * x).sum()
    nodes, edges = parse(draw_graph(y))
    mul = [n for n, label in nodes.items() if label == "Mul"]
    assert len(mul) == 1
    assert sum(1 for a, b in edges if b == mul[0]) == 2  # x used twice


def test_long_chain_needs_no_recursion():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    tensors, ops, _ = graph_nodes(y.sum())
    assert len(ops) == 5001


def test_write_dot_and_errors(tmp_path):
    _, loss = mlp_loss()
    path = tmp_path / "graph.dot"
    text = draw_graph(loss, path)
    assert path.read_text() == text
    with pytest.raises(ValueError, match=r"\.dot"):
        draw_graph(loss, tmp_path / "graph.jpg2")
    with pytest.raises(TypeError, match="Tensor"):
        draw_graph(np.ones(3))
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="Graphviz"):
            draw_graph(loss, tmp_path / "graph.svg")
    else:
        draw_graph(loss, tmp_path / "graph.svg")
        assert (tmp_path / "graph.svg").read_text().lstrip().startswith("<?xml")
