"""scikit-learn compatible estimators trained by chainrule: ``MLPClassifier`` and ``MLPRegressor``.

They take scikit-learn's ``MLPClassifier``/``MLPRegressor`` parameters with
the same names and defaults, plus ``dropout``, ``batch_norm``,
``class_weight`` (classifier) and ``dtype`` (float32 by default), and they
pass scikit-learn's estimator checks. The network behind a fitted estimator
is a :class:`chainrule.nn.Sequential` in ``model_``.

This subpackage needs scikit-learn (``pip install chainrule[sklearn]``);
``import chainrule`` alone never imports it.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from chainrule.estimators import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> X = (X - X.mean(axis=0)) / X.std(axis=0)
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=300,
...                     random_state=0).fit(X, y)          # converges in 226 epochs
>>> clf.coefs_[0].shape
(4, 16)
"""

from ._mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
