"""AUROC and ROC curve of flagging failed separations by low confidence."""
import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from priorsep.errors import ConfigError
from priorsep.evaluation.failure_detection import auroc, roc_curve


def test_auroc_is_the_mann_whitney_probability_and_the_area_under_the_curve():
    g = np.random.default_rng(0)
    score = g.normal(8, 10, 500)
    confidence = score + g.normal(0, 8, 500)  # a noisy confidence
    confidence[:20] = np.round(confidence[:20])  # and some ties
    confidence[20:40] = np.round(confidence[:20])
    a = auroc(confidence, score)
    failed = score < 5
    u = mannwhitneyu(confidence[~failed], confidence[failed]).statistic  # good above failed, ties half
    assert a == pytest.approx(u / (failed.sum() * (~failed).sum()))
    fpr, tpr = roc_curve(confidence, score)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    assert (np.diff(fpr) >= 0).all() and (np.diff(tpr) >= 0).all()
    assert np.trapezoid(tpr, fpr) == pytest.approx(a)
    assert 0.7 < a < 0.95
    assert auroc(-confidence, score) == pytest.approx(1 - a)


def test_a_perfect_and_a_useless_confidence():
    score = np.array([[20.0, -3.0], [18.0, 4.0]])
    assert auroc(score, score) == 1.0 and auroc(np.zeros(4), score) == 0.5
    with pytest.raises(ConfigError, match="failed .* and good estimates"):
        auroc([1.0, 2.0], [10.0, 20.0])
    with pytest.raises(ConfigError, match="3 confidences but 2"):
        auroc([1.0, 2.0, 3.0], [1.0, 20.0])
