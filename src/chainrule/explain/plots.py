"""Pictures of attributions (matplotlib, imported when a picture is drawn).

- :func:`plot_image`: the image, and next to it the attribution heatmap laid over it;
- :func:`plot_signal`: a 1-D signal (or sequence) drawn as a line coloured by attribution;
- :func:`plot_features`: the top features of a tabular sample as bars, by name;
- :func:`plot_comparison`: one image under several methods' maps, side by side.

Maps that can be negative (integrated gradients, input × gradient, signed saliency) are red
where a feature speaks for the target and blue where it speaks against it; maps that cannot
(|saliency|, SmoothGrad, Grad-CAM) use 'jet'. Over an image the colour's opacity grows with
|attribution|, so the input shows through where the model does not look. Each function
returns the figure, and writes it as a PNG when ``path`` is given (atomically: a complete
file or none).
"""

from __future__ import annotations

import io as _stdio

from ..backend import host

__all__ = ["caption", "plot_comparison", "plot_features", "plot_image", "plot_signal",
           "save_figure"]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - matplotlib is in the [plot] extra
        raise ImportError("chainrule.explain.plots needs matplotlib: pip install matplotlib "
                          "(or pip install chainrule[plot])") from error
    return plt


def save_figure(figure, path) -> None:
    """Write ``figure`` to ``path`` as a PNG, atomically, and close it."""
    from ..io import atomic_write_bytes

    buffer = _stdio.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(figure)
    atomic_write_bytes(path, buffer.getvalue())


def _finish(figure, path):
    if path is not None:
        save_figure(figure, path)
    return figure


def caption(index: int, predicted, target, class_names=None, probability=None) -> str:
    """``"sample 3: predicted Trouser (0.97), target Trouser"``."""
    def name(k):
        k = int(k)
        return class_names[k] if class_names and 0 <= k < len(class_names) else str(k)

    shown = f" ({probability:.2f})" if probability is not None else ""
    return f"sample {index}: predicted {name(predicted)}{shown}, target {name(target)}"


def _colour_scale(values, overlay: bool = True):
    """(colour map, vmin, vmax): symmetric when any value is negative. Overlays fade to
    transparent at 0; lines use opaque maps ('coolwarm', 'plasma')."""
    values = host.asarray(values, dtype=float)
    largest = float(host.abs(values).max()) or 1.0
    if (values < 0).any():
        return (_signed_map() if overlay else "coolwarm"), -largest, largest
    return (_unsigned_map() if overlay else "plasma"), 0.0, largest


def _opacity(fraction):
    """Opacity for |attribution| / max: grows quickly from 0 (transparent) to 0.9."""
    return 0.9 * host.clip(fraction, 0, 1) ** 0.5


def _signed_map():
    """Blue (against the target) through transparent (0) to red (for it): laid over an image,
    only what matters takes a colour."""
    from matplotlib.colors import ListedColormap

    levels = host.linspace(-1, 1, 256)
    colours = host.where(levels[:, None] >= 0, [[0.80, 0.10, 0.10]], [[0.10, 0.30, 0.85]])
    return ListedColormap(host.column_stack([colours, _opacity(host.abs(levels))]), "signed")


def _unsigned_map():
    """'jet' with the opacity rising from 0 at the low end."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    levels = host.linspace(0, 1, 256)
    colours = colormaps["jet"](levels)
    colours[:, 3] = _opacity(levels)
    return ListedColormap(colours, "unsigned")


def _as_picture(image):
    """(H, W) grey or (H, W, 3) colour scaled to [0, 1], and whether it is grey."""
    image = host.asarray(image, dtype=float)
    if image.ndim == 3:
        image = image[0] if image.shape[0] == 1 else host.moveaxis(image, 0, -1)
    if image.ndim == 2:
        return image, True
    low, high = float(image.min()), float(image.max())
    return (image - low) / ((high - low) or 1.0), False


def _as_map(attribution):
    attribution = host.asarray(attribution, dtype=float)
    return attribution.sum(axis=0) if attribution.ndim == 3 else attribution


def _overlay(axis, picture, grey, attribution, title):
    """The picture with the map over it (opacity growing with |attribution|); the colour image."""
    cmap, vmin, vmax = _colour_scale(attribution)
    axis.imshow(picture, cmap="gray" if grey else None, interpolation="nearest")
    heat = axis.imshow(attribution, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    axis.set_title(title, fontsize=10)
    axis.set_xticks([])
    axis.set_yticks([])
    return heat


def plot_comparison(image, maps: dict, title: str | None = None, path=None):
    """The image, then each method's map over it, in one row (a colour bar under each).

    Examples
    --------
    >>> import numpy as np
    >>> maps = {"saliency": np.ones((8, 8)), "IG": np.eye(8) - 0.5}
    >>> len(plot_comparison(np.eye(8), maps).axes)
    5
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    picture, grey = _as_picture(image)
    figure, axes = plt.subplots(1, len(maps) + 1, figsize=(2.3 * (len(maps) + 1), 2.9))
    axes[0].imshow(picture, cmap="gray" if grey else None, interpolation="nearest")
    axes[0].set_title("input", fontsize=10)
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    for axis, (name, attribution) in zip(axes[1:], maps.items(), strict=True):
        heat = _overlay(axis, picture, grey, _as_map(attribution), name)
        bar = figure.colorbar(heat, ax=axis, orientation="horizontal", fraction=0.06, pad=0.04)
        bar.ax.tick_params(labelsize=7)
        bar.locator = MaxNLocator(3)
        bar.update_ticks()
    if title:
        figure.suptitle(title, fontsize=11)
    return _finish(figure, path)


def plot_image(image, attribution, title: str | None = None, path=None, method: str = ""):
    """The image on the left, the attribution over it on the right, with a colour bar.

    Parameters
    ----------
    image : array_like, (H, W), (1, H, W) or (3, H, W)
    attribution : array_like, (H, W) or shaped as ``image`` (channels are summed)
    title : str, optional
        The figure's title (for example :func:`caption`).
    path : str or Path, optional
        Write the PNG there.
    method : str
        Named in the colour bar's label.

    Examples
    --------
    >>> import numpy as np
    >>> figure = plot_image(np.eye(8), np.arange(64.0).reshape(8, 8), "an example")
    >>> len(figure.axes)
    3
    """
    plt = _pyplot()
    picture, grey = _as_picture(image)
    figure, (left, right) = plt.subplots(1, 2, figsize=(7.2, 3.6))
    left.imshow(picture, cmap="gray" if grey else None, interpolation="nearest")
    left.set_title("input", fontsize=10)
    left.set_xticks([])
    left.set_yticks([])
    heat = _overlay(right, picture, grey, _as_map(attribution),
                    f"{method or 'attribution'} over the input")
    bar = figure.colorbar(heat, ax=right, fraction=0.046, pad=0.04)
    bar.set_label(method or "attribution", fontsize=9)
    bar.ax.tick_params(labelsize=8)
    if title:
        figure.suptitle(title, fontsize=11)
    return _finish(figure, path)


def plot_signal(signal, attribution, title: str | None = None, path=None, method: str = ""):
    """The signal as a line whose colour is the attribution at each step (one line per channel).

    Parameters
    ----------
    signal : array_like, (L,) or (C, L)
    attribution : array_like, (L,) (shared by the channels) or shaped as ``signal``
    title, path, method
        As :func:`plot_image`.

    Examples
    --------
    >>> import numpy as np
    >>> figure = plot_signal(np.sin(np.linspace(0, 6, 40)), np.linspace(-1, 1, 40))
    >>> len(figure.axes)
    2
    """
    plt = _pyplot()
    from matplotlib.collections import LineCollection

    signal = host.atleast_2d(host.asarray(signal, dtype=float))
    attribution = host.atleast_2d(host.asarray(attribution, dtype=float))
    attribution = host.broadcast_to(attribution, signal.shape)
    cmap, vmin, vmax = _colour_scale(attribution, overlay=False)
    figure, axis = plt.subplots(figsize=(7.2, 3.2))
    steps = host.arange(signal.shape[1])
    collection = None
    for channel, values in zip(signal, attribution, strict=True):
        axis.plot(steps, channel, color="0.6", linewidth=1, zorder=1)
        points = host.stack([steps, channel], axis=1)
        segments = host.stack([points[:-1], points[1:]], axis=1)
        collection = LineCollection(segments, cmap=cmap, linewidths=3)
        collection.set_array((values[:-1] + values[1:]) / 2)  # each segment: its ends' mean
        collection.set_clim(vmin, vmax)
        axis.add_collection(collection)
        axis.scatter(steps, channel, c=values, cmap=cmap, vmin=vmin, vmax=vmax, s=14, zorder=3,
                     edgecolors="none")
    pad = 0.05 * (float(signal.max() - signal.min()) or 1.0)
    axis.set_xlim(-0.5, signal.shape[1] - 0.5)
    axis.set_ylim(float(signal.min()) - pad, float(signal.max()) + pad)
    axis.set_xlabel("step")
    axis.set_ylabel("value")
    axis.grid(alpha=0.3)
    bar = figure.colorbar(collection, ax=axis, fraction=0.046, pad=0.02)
    bar.set_label(method or "attribution", fontsize=9)
    if title:
        axis.set_title(title, fontsize=11)
    return _finish(figure, path)


def plot_features(values, attribution, names=None, top: int = 15, title: str | None = None,
                  path=None, method: str = ""):
    """Horizontal bars of the ``top`` features by |attribution|, largest on top.

    Parameters
    ----------
    values : array_like, (F,)
        The sample's feature values (shown next to each name).
    attribution : array_like, (F,)
    names : list of str, optional
        Feature names (for example a CSV header); default ``x0, x1, ...``.
    top : int
        How many features to show.
    title, path, method
        As :func:`plot_image`.

    Examples
    --------
    >>> import numpy as np
    >>> figure = plot_features(np.ones(4), np.array([0.5, -2.0, 0.1, 1.0]), ["a", "b", "c", "d"])
    >>> [label.get_text() for label in figure.axes[0].get_yticklabels()][-1]
    'b = 1'
    """
    plt = _pyplot()
    values = host.asarray(values, dtype=float).ravel()
    attribution = host.asarray(attribution, dtype=float).ravel()
    names = list(names) if names is not None else [f"x{i}" for i in range(len(attribution))]
    order = host.argsort(-host.abs(attribution), kind="stable")[:top][::-1]
    labels = [f"{names[i]} = {values[i]:.3g}" for i in order]
    colours = ["#c0392b" if attribution[i] >= 0 else "#2e6da4" for i in order]
    figure, axis = plt.subplots(figsize=(7.2, 0.9 + 0.32 * len(order)))
    axis.barh(range(len(order)), attribution[order], color=colours)
    axis.set_yticks(range(len(order)))
    axis.set_yticklabels(labels, fontsize=9)
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel(f"{method or 'attribution'} (red: for the target, blue: against)")
    axis.grid(axis="x", alpha=0.3)
    if title:
        axis.set_title(title, fontsize=11)
    return _finish(figure, path)
