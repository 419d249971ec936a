"""scikit-learn's own estimator contract, with no expected failures."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks

from chainrule.estimators import MLPClassifier, MLPRegressor


# The checks fit on small random data for the default max_iter on purpose, so the solver's
# ConvergenceWarning is expected there (scikit-learn's own test suite ignores it the same way).
@pytest.mark.filterwarnings("ignore:Stochastic Optimizer. Maximum iterations")
@parametrize_with_checks([MLPClassifier(), MLPRegressor()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
