"""Explain three trained networks and draw the pictures of docs/guide/explain.md.

1. digits (bundled with scikit-learn): the ``mlp`` preset; saliency, input × gradient,
   integrated gradients, SmoothGrad and occlusion side by side, and the sanity check;
2. Fashion-MNIST (the IDX files of the Debian package ``dataset-fashion-mnist``): the ``cnn``
   preset trained on 12,000 training images for 2 epochs; Grad-CAM of its last conv layer and
   integrated gradients;
3. MNIST-1D (generated from a seed): the 1-D ``cnn`` preset; integrated gradients and Grad-CAM
   along the signal.

    python examples/explain_gallery.py                 # writes docs/img/explain/*.png
    python examples/explain_gallery.py --out /tmp/gallery

A few minutes on two cores, most of it the Fashion-MNIST training.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import chainrule as cr
from chainrule import explain, optim, presets
from chainrule.data import datasets
from chainrule.explain import plots
from chainrule.train import fit


def train(model, X, y, epochs, lr=2e-3, batch_size=64, seed=0):
    optimizer = optim.Adam(model.parameters(), lr=lr)
    fit(model, (X, y), loss="cross_entropy", optimizer=optimizer, epochs=epochs,
        batch_size=batch_size, progress=False, verbose=0, generator=np.random.default_rng(seed))
    return model.eval()


def accuracy(model, X, y):
    with cr.no_grad():
        return float((model(cr.tensor(X)).data.argmax(axis=1) == y).mean())


def probabilities(model, X):
    with cr.no_grad():
        return cr.functional.softmax(model(cr.tensor(X)), axis=1).data


def digits(out):
    bundle = datasets.load("digits")
    cr.manual_seed(0)
    model = presets.build_preset("mlp", bundle.input_shape, 10)
    train(model, bundle.X_train, bundle.y_train, epochs=30)
    print(f"digits mlp: test accuracy {accuracy(model, bundle.X_test, bundle.y_test):.3f}")
    x = bundle.X_test[:3]
    maps = {
        "saliency": explain.saliency(model, x),
        "input × gradient": explain.input_x_gradient(model, x),
        "integrated gradients": explain.integrated_gradients(model, x, steps=100),
        "SmoothGrad": explain.smoothgrad(model, x, samples=50, stdev=0.15, generator=0),
        "occlusion 2×2": explain.occlusion(model, x.reshape(3, 1, 8, 8), window=2, stride=1),
    }
    predicted = probabilities(model, x).argmax(axis=1)
    for i in range(len(x)):
        plots.plot_comparison(x[i].reshape(8, 8), {k: v[i].reshape(8, 8) for k, v in maps.items()},
                              title=f"digits, mlp preset: predicted {predicted[i]}, "
                                    f"label {bundle.y_test[i]}",
                              path=os.path.join(out, f"digits_methods_{i}.png"))
    _, delta = explain.integrated_gradients(model, bundle.X_test[:100], steps=100,
                                            return_delta=True)
    print(f"digits IG, 100 steps: largest |completeness delta| {np.abs(delta).max():.2g}")
    result = explain.randomization_test(model, bundle.X_test[:50], "saliency", generator=0)
    print(result)
    fake = explain.randomization_test(model, bundle.X_test[:50], lambda model, x, target: x,
                                      generator=0)
    print(fake.verdict)


def fashion(out):
    bundle = datasets.load("fashion-mnist")
    rng = np.random.default_rng(0)
    subset = rng.choice(len(bundle.X_train), 12000, replace=False)
    cr.manual_seed(0)
    model = presets.build_preset("cnn", bundle.input_shape, 10, image_shape=bundle.image_shape)
    train(model, bundle.X_train[subset], bundle.y_train[subset], epochs=2)
    score = accuracy(model, bundle.X_test[:2000], bundle.y_test[:2000])
    print(f"fashion-mnist cnn: accuracy on 2000 test images {score:.3f}")
    x = bundle.X_test[:6]
    cam = explain.grad_cam(model, x)  # the last conv layer
    ig = explain.integrated_gradients(model, x, steps=50)
    chances = probabilities(model, x)
    names = bundle.class_names
    for i in (0, 1, 2):
        title = plots.caption(i, chances[i].argmax(), chances[i].argmax(), names, chances[i].max())
        plots.plot_image(x[i], cam[i], title, os.path.join(out, f"fashion_gradcam_{i}.png"),
                         method="Grad-CAM")
    for i in (0, 1):
        title = (f"{names[chances[i].argmax()]} ({chances[i].max():.2f}); label "
                 f"{names[bundle.y_test[i]]}")
        smooth = explain.smoothgrad(model, x[i:i + 1], samples=30, stdev=0.15, generator=0)[0]
        plots.plot_comparison(x[i], {"Grad-CAM": cam[i], "SmoothGrad": smooth,
                                     "integrated gradients": ig[i]},
                              title=title, path=os.path.join(out, f"fashion_methods_{i}.png"))


def mnist1d(out):
    bundle = datasets.load("mnist1d")
    cr.manual_seed(0)
    model = presets.build_preset("cnn", bundle.input_shape, 10, image_shape=bundle.image_shape)
    train(model, bundle.X_train, bundle.y_train, epochs=8)
    print(f"mnist1d cnn: test accuracy {accuracy(model, bundle.X_test, bundle.y_test):.3f}")
    x = bundle.X_test[:2]
    chances = probabilities(model, x)
    ig = explain.integrated_gradients(model, x, steps=100)
    cam = explain.grad_cam(model, x)
    for i in range(len(x)):
        title = (plots.caption(i, chances[i].argmax(), chances[i].argmax(), None, chances[i].max())
                 + f", label {bundle.y_test[i]}")
        plots.plot_signal(x[i], ig[i], title, os.path.join(out, f"mnist1d_ig_{i}.png"),
                          method="integrated gradients")
        plots.plot_signal(x[i], cam[i], title, os.path.join(out, f"mnist1d_gradcam_{i}.png"),
                          method="Grad-CAM")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Draw the pictures of docs/guide/explain.md.")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "..", "docs", "img", "explain"))
    parser.add_argument("--only", choices=["digits", "fashion", "mnist1d"], action="append")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for name, draw in (("digits", digits), ("fashion", fashion), ("mnist1d", mnist1d)):
        if not args.only or name in args.only:
            draw(args.out)


if __name__ == "__main__":
    main()
