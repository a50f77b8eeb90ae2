"""MLPClassifier(class_weight=...): scikit-learn's meaning (each sample's weight multiplied by
its class's, from sklearn.utils.class_weight), checked against fits given the same weights as
sample_weight, for its effect on an imbalanced fit, and for its errors."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_sample_weight

import fastnn
from fastnn import MLPClassifier

from _util import fit_quiet


def _data(n=300, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    y = np.minimum((X[:, 0] > 0.8) + (X[:, 1] > 0.5) * 2, n_classes - 1)
    return X, y


def _assert_same_model(a, b):
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)
    assert a.loss_ == b.loss_


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0, 2: 0.5}, {2: 4.0}])
def test_class_weight_is_sample_weight_times_the_class_weight(solver, class_weight):
    X, y = _data()
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    params = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=15, random_state=0)
    weighted = fit_quiet(MLPClassifier(class_weight=class_weight, **params), X, y,
                         sample_weight=sw)
    reference = fit_quiet(MLPClassifier(**params), X, y,
                          sample_weight=sw * compute_sample_weight(class_weight, y))
    _assert_same_model(weighted, reference)
    unweighted = fit_quiet(MLPClassifier(**params), X, y, sample_weight=sw)
    assert not np.array_equal(weighted.coefs_[0], unweighted.coefs_[0])


def test_class_weight_with_string_labels_and_binary_targets():
    X, y = _data(n_classes=2)
    labels = np.array(["no", "yes"])[y]
    params = dict(hidden_layer_sizes=(6,), max_iter=10, random_state=0)
    class_weight = {"no": 1.0, "yes": 5.0}
    weighted = fit_quiet(MLPClassifier(class_weight=class_weight, **params), X, labels)
    reference = fit_quiet(MLPClassifier(**params), X, labels,
                          sample_weight=np.where(y == 1, 5.0, 1.0))
    _assert_same_model(weighted, reference)
    assert class_weight == {"no": 1.0, "yes": 5.0}  # the user's dict is not changed


def test_balanced_class_weight_raises_balanced_accuracy_on_imbalanced_data():
    # Digits as "is it a 9?" (10% positives), a small network, a short fit: the unweighted model
    # misses many nines; 'balanced' trades a little accuracy for a much better recall.
    X, y = load_digits(return_X_y=True)
    y = (y == 9).astype(int)
    Xtr, Xte, ytr, yte = train_test_split(X / 16, y, stratify=y, random_state=0)
    scores = {}
    for class_weight in (None, "balanced"):
        model = fit_quiet(MLPClassifier((4,), max_iter=15, random_state=0,
                                        class_weight=class_weight), Xtr, ytr)
        scores[class_weight] = balanced_accuracy_score(yte, model.predict(Xte))
    assert scores["balanced"] > scores[None] + 0.1, scores


def test_balanced_class_weight_on_a_synthetic_imbalanced_problem():
    X, y = make_classification(4000, 20, n_informative=6, weights=[0.95, 0.05], flip_y=0.02,
                               class_sep=0.8, random_state=0)
    Xtr, Xte, ytr, yte = train_test_split(X, y, stratify=y, random_state=0)
    scores = [
        balanced_accuracy_score(yte, fit_quiet(MLPClassifier(
            (32,), max_iter=30, random_state=0, class_weight=cw), Xtr, ytr).predict(Xte))
        for cw in (None, "balanced")
    ]
    assert scores[1] > scores[0] + 0.05, scores


def test_early_stopping_scores_the_validation_set_with_the_class_weights():
    X, y = _data(n=400)
    params = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0, early_stopping=True,
                  n_iter_no_change=50)
    weighted = fit_quiet(MLPClassifier(class_weight="balanced", **params), X, y)
    reference = fit_quiet(MLPClassifier(**params), X, y,
                          sample_weight=compute_sample_weight("balanced", y))
    _assert_same_model(weighted, reference)
    assert weighted.validation_scores_ == reference.validation_scores_
    plain = fit_quiet(MLPClassifier(**params), X, y)
    assert weighted.validation_scores_ != plain.validation_scores_


def test_partial_fit_takes_a_dict_over_the_classes_given():
    X, y = _data()
    class_weight = {0: 1.0, 1: 2.0, 2: 3.0}
    weighted = MLPClassifier((8,), random_state=0, class_weight=class_weight)
    reference = MLPClassifier((8,), random_state=0)
    first = y != 2  # the first batch has no sample of class 2, given in classes
    weighted.partial_fit(X[first], y[first], classes=[0, 1, 2])
    reference.partial_fit(X[first], y[first], classes=[0, 1, 2],
                          sample_weight=np.where(y[first] == 1, 2.0, 1.0))
    weighted.partial_fit(X, y)
    reference.partial_fit(X, y, sample_weight=np.array([1.0, 2.0, 3.0])[y])
    _assert_same_model(weighted, reference)


def test_partial_fit_refuses_balanced_as_sgdclassifier_does():
    X, y = _data()
    with pytest.raises(ValueError, match="class_weight 'balanced' is not supported for partial"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_multilabel_takes_balanced_or_one_dict_per_output():
    X, y = _data(n=200)
    Y = np.column_stack([y == 1, y == 2, X[:, 2] > 0]).astype(int)
    params = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    for class_weight in ("balanced", [{0: 1.0, 1: 2.0}, {0: 1.0, 1: 5.0}, {1: 0.5}]):
        weighted = fit_quiet(MLPClassifier(class_weight=class_weight, **params), X, Y)
        reference = fit_quiet(MLPClassifier(**params), X, Y,
                              sample_weight=compute_sample_weight(class_weight, Y))
        _assert_same_model(weighted, reference)
    with pytest.raises(ValueError, match="For multi-output, class_weight should be a list"):
        MLPClassifier(class_weight={0: 1.0, 1: 2.0}, **params).fit(X, Y)


@pytest.mark.parametrize(
    "class_weight, match",
    [
        ([{0: 1.0}], "a list of dicts \\(one per output\\) is for multilabel targets"),
        ({5: 2.0}, "not in class_weight"),  # scikit-learn's message for an unknown label
        ("balance", "The 'class_weight' parameter of MLPClassifier must be"),
    ],
)
def test_bad_class_weight_is_a_clear_error(class_weight, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        MLPClassifier(class_weight=class_weight, max_iter=2).fit(X, y)


def test_class_weight_survives_save_and_load_and_is_dropped_by_to_sklearn(tmp_path):
    X, y = _data()
    model = fit_quiet(MLPClassifier((6,), max_iter=3, random_state=0,
                                    class_weight={0: 1.0, 1: 2.0, 2: 0.5}), X, y)
    fastnn.save(model, tmp_path / "m.fastnn")
    loaded = fastnn.load(tmp_path / "m.fastnn")
    assert loaded.class_weight == {0: 1.0, 1: 2.0, 2: 0.5}
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert "class_weight" not in model.to_sklearn().get_params()
