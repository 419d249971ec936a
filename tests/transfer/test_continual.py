import numpy as np
import pytest

from chainrule.transfer import backward_transfer, forgetting


def test_three_task_metrics_by_hand():
    R = np.array([[0.9, 0.1, 0.2], [0.7, 0.8, 0.1], [0.6, 0.5, 0.9]])
    # BWT = ((0.6 - 0.9) + (0.5 - 0.8)) / 2 ; forgetting = ((0.9 - 0.6) + (0.8 - 0.5)) / 2
    assert backward_transfer(R) == pytest.approx(-0.3)
    assert forgetting(R) == pytest.approx(0.3)


def test_forgetting_uses_the_best_earlier_score():
    R = np.array([[0.5, 0.0, 0.0], [0.9, 0.7, 0.0], [0.8, 0.7, 0.9]])
    assert forgetting(R) == pytest.approx(((0.9 - 0.8) + (0.7 - 0.7)) / 2)
    assert backward_transfer(R) == pytest.approx(((0.8 - 0.5) + 0.0) / 2)


@pytest.mark.parametrize("bad", [[[1.0]], [[1, 2, 3], [4, 5, 6]], [1, 2]])
def test_bad_matrices_are_refused(bad):
    with pytest.raises(ValueError, match="T×T"):
        forgetting(bad)
