"""Optional cross-check: FA, uSF and DFA updates against biotorch on the same weights and data.

Skipped unless ``torch`` and ``biotorch`` are installed (``pip install torch==2.13.0`` and
``pip install --no-deps biotorch``); neither is a dependency of spikeplast.
"""

from __future__ import annotations

import numpy as np
import pytest

from spikeplast.bridges import DirectFeedbackAlignment, FeedbackAlignment, SignSymmetry, rule_update

from .conftest import small_batch, small_net

torch = pytest.importorskip("torch")
pytest.importorskip("biotorch")


def tensor(array):
    return torch.tensor(np.asarray(array), dtype=torch.float64)


def load(layer, w, b, backward=None):
    with torch.no_grad():
        layer.weight.copy_(tensor(w))
        layer.bias.copy_(tensor(b))
        if backward is not None:
            layer.weight_backward.copy_(tensor(backward))


def biotorch_gradients(layers, net, x, t, tanh_between=True):
    """Batch-mean squared error (our loss), backward through biotorch's layers."""
    h = tensor(x)
    for k, layer in enumerate(layers):
        h = layer(h)
        if k < len(layers) - 1 and tanh_between:
            h = torch.tanh(h)
    loss = 0.5 * ((h - tensor(t)) ** 2).sum() / len(x)
    return h, loss


@pytest.mark.parametrize("kind", ["fa", "usf"])
def test_fa_and_usf_match_biotorch(rng, kind):
    from biotorch.layers import fa, usf

    module = {"fa": fa, "usf": usf}[kind]
    net = small_net(rng)
    x, t = small_batch(rng)
    rule = FeedbackAlignment() if kind == "fa" else SignSymmetry("unit")
    feedback = rule.init_feedback(net, rng)
    layers = []
    for k, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        layer = module.Linear(w.shape[1], w.shape[0]).double()
        load(layer, w, b, None if k == 0 or kind == "usf" else feedback[k].T)
        layers.append(layer)
    _, loss = biotorch_gradients(layers, net, x, t)
    loss.backward()
    ours = rule_update(rule, net, x, t, feedback=feedback, learning_rate=1.0)
    for layer, step in zip(layers, ours, strict=True):
        np.testing.assert_allclose(-layer.weight.grad.numpy(), step, rtol=1e-10, atol=1e-14)


@pytest.mark.filterwarnings("ignore:Using a non-full backward hook:FutureWarning")
def test_dfa_matches_biotorch(rng):
    from biotorch.layers import dfa

    net = small_net(rng)
    x, t = small_batch(rng)
    rule = DirectFeedbackAlignment()
    feedback = rule.init_feedback(net, rng)
    n_out = net.weights[-1].shape[0]
    layers = [torch.nn.Linear(5, 6).double()]
    load(layers[0], net.weights[0], net.biases[0])
    for k in (1, 2):
        w = net.weights[k]
        layer = dfa.Linear(w.shape[1], w.shape[0], output_dim=n_out, layer_config={"type": "dfa"})
        layer = layer.double()
        load(layer, w, net.biases[k], feedback[k].T)
        layers.append(layer)
    output, loss = biotorch_gradients(layers, net, x, t)
    loss_gradient = torch.autograd.grad(loss, output, retain_graph=True)[0]
    for layer in layers[1:]:
        layer.loss_gradient = loss_gradient
    loss.backward()
    ours = rule_update(rule, net, x, t, feedback=feedback, learning_rate=1.0)
    for layer, step in zip(layers, ours, strict=True):
        np.testing.assert_allclose(-layer.weight.grad.numpy(), step, rtol=1e-10, atol=1e-14)
