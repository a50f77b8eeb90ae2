"""ONNX export of every fastnn model, through skl2onnx (optional: ``pip install skl2onnx``).

fastnn's estimators are registered with skl2onnx (a converter and a shape calculator each;
skl2onnx's own classifier and regressor parsers), so ``skl2onnx.to_onnx(model, X[:1])`` works as
for scikit-learn's MLPs -- and for what scikit-learn's MLP converter does not know: leaky ReLU,
elu, softplus, silu and gelu, residual layers, exp outputs (Poisson), the quadratic-cost
classifier (its normalised probabilities), the robust regression losses and multi-output
regression. The registration runs
when skl2onnx is imported (before or after fastnn: see ``install_hook``); ``fastnn.to_onnx``
needs nothing else.

The graph: MatMul + Add per layer, then the activation (Identity, Sigmoid, Tanh, Relu,
Softmax, Exp; fastnn's own composed of operators onnxruntime runs in float64 too: see
``_activation``; a residual layer adds its input back), in the input's float type
(float32 or float64: the weights are stored in it). Classifiers end as scikit-learn's converter
ends: class labels (ArgMax and ArrayFeatureExtractor of ``ai.onnx.ml``, or p > 0.5 for
multilabel) and probabilities. The operators are those of ONNX opset 13 and ai.onnx.ml 1; the
opset written is skl2onnx's default unless ``target_opset`` says otherwise.
"""

import importlib.abc
import importlib.util
import sys

import numpy as np

__all__ = ["install_hook", "register", "to_onnx"]

_ACTIVATIONS = {"identity": "Identity", "tanh": "Tanh", "logistic": "Sigmoid", "relu": "Relu",
                "softmax": "Softmax", "exp": "Exp"}
_registered = False


def _skl2onnx():
    try:
        import skl2onnx
    except ImportError as exc:
        raise ImportError("fastnn.to_onnx needs skl2onnx: pip install skl2onnx") from exc
    return skl2onnx


def _proto_dtype(operator):
    from skl2onnx.common.data_types import guess_proto_type
    from skl2onnx.proto import onnx_proto

    dtype = guess_proto_type(operator.inputs[0].type)
    return dtype if dtype == onnx_proto.TensorProto.DOUBLE else onnx_proto.TensorProto.FLOAT


def _network_output(scope, operator, container):
    """The output activations of the network for the operator's input (a variable name)."""
    from skl2onnx.common._apply_operation import apply_add, apply_cast

    model = operator.raw_operator
    dtype = _proto_dtype(operator)
    a = scope.get_unique_variable_name("input")
    apply_cast(scope, operator.inputs[0].full_name, a, container, to=dtype)
    residual = model._residual_layers()
    n_layers = len(model.coefs_)
    for i, (coef, intercept) in enumerate(zip(model.coefs_, model.intercepts_)):
        w, b = scope.get_unique_variable_name("coef"), scope.get_unique_variable_name("bias")
        container.add_initializer(w, dtype, coef.shape, np.asarray(coef, np.float64).ravel())
        container.add_initializer(b, dtype, [1, intercept.size], np.asarray(intercept, np.float64))
        product, z = (scope.get_unique_variable_name(n) for n in ("product", "z"))
        container.add_node("MatMul", [a, w], product, name=scope.get_unique_operator_name("MatMul"))
        apply_add(scope, [product, b], z, container, broadcast=1)
        g = model.out_activation_ if i == n_layers - 1 else model.activation
        out = scope.get_unique_variable_name("activation")
        _activation(_Nodes(scope, container, dtype), g, z, out, model.leaky_relu_slope)
        if i < len(residual) and residual[i]:
            summed = scope.get_unique_variable_name("residual")
            apply_add(scope, [a, out], summed, container)
            out = summed
        a = out
    return a


class _Nodes:
    """Adds nodes to a graph: each call one operator, returning its new output's name."""

    def __init__(self, scope, container, dtype):
        self.scope, self.container, self.dtype = scope, container, dtype
        self.double = dtype == _double_type()

    def constant(self, value):
        name = self.scope.get_unique_variable_name("constant")
        self.container.add_initializer(name, self.dtype, [], [float(value)])
        return name

    def __call__(self, op, *inputs, out=None, **attrs):
        out = out or self.scope.get_unique_variable_name(op.lower())
        self.container.add_node(op, list(inputs), out,
                                name=self.scope.get_unique_operator_name(op), **attrs)
        return out


def _double_type():
    from skl2onnx.proto import onnx_proto

    return onnx_proto.TensorProto.DOUBLE


def _activation(node, g, z, out, slope):
    """out = g(z). Composed of operators onnxruntime runs in float32 and float64 alike
    (its Elu, Softplus and Erf kernels are float32 only): leaky ReLU as Where(z >= 0, z,
    slope·z); elu as Where(z > 0, z, Exp(Min(z, 0)) - 1); softplus as Max(z, 0) +
    Log(1 + Exp(-|z|)); silu as z·Sigmoid(z); gelu as z·(1 + erf(z/√2))/2, erf by the Erf
    operator in float32 and by its series in float64 (see ``_erf_series``)."""
    if g in _ACTIVATIONS:
        node(_ACTIVATIONS[g], z, out=out, **({"axis": 1} if g == "softmax" else {}))
    elif g == "leaky_relu":
        positive = node("GreaterOrEqual", z, node.constant(0))
        node("Where", positive, z, node("Mul", z, node.constant(slope)), out=out)
    elif g == "elu":
        below = node("Sub", node("Exp", node("Min", z, node.constant(0))), node.constant(1))
        node("Where", node("Greater", z, node.constant(0)), z, below, out=out)
    elif g == "softplus":
        e = node("Exp", node("Neg", node("Abs", z)))
        log1p = node("Log", node("Add", node.constant(1), e))
        node("Add", node("Max", z, node.constant(0)), log1p, out=out)
    elif g == "silu":
        node("Mul", z, node("Sigmoid", z), out=out)
    elif g == "gelu":
        x = node("Mul", z, node.constant(np.sqrt(0.5)))
        erf = _erf_series(node, x) if node.double else node("Erf", x)
        half_z = node("Mul", z, node.constant(0.5))
        node("Mul", half_z, node("Add", node.constant(1), erf), out=out)
    else:
        raise ValueError(f"no ONNX form for activation {g!r}")


def _erf_series(node, x, terms=100):
    """erf(x) = 2/√π x exp(-x²) Σ_n (2x²)^n / (1·3·…·(2n+1)) (Abramowitz & Stegun 7.1.6), its
    positive terms summed by Horner's rule over x clipped to [-6, 6] (where erf is ±1 in
    float64): within 1.5e-15 of scipy's erf over [-7, 7] with 100 terms."""
    x = node("Clip", x, node.constant(-6), node.constant(6))
    t = node("Mul", x, x)
    one = node.constant(1)
    total = one
    for n in range(terms, 0, -1):
        total = node("Add", one, node("Mul", node("Mul", t, node.constant(2 / (2 * n + 1))),
                                      total))
    scale = node("Mul", x, node("Exp", node("Neg", t)))
    return node("Mul", node("Mul", scale, node.constant(2 / np.sqrt(np.pi))), total)


def _convert_regressor(scope, operator, container):
    from skl2onnx.common._apply_operation import apply_identity

    apply_identity(scope, _network_output(scope, operator, container),
                   operator.outputs[0].full_name, container)


def _regressor_shapes(operator):
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    float_type = (DoubleTensorType if isinstance(operator.inputs[0].type, DoubleTensorType)
                  else FloatTensorType)
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = float_type([n, operator.raw_operator.n_outputs_])


def _convert_classifier(scope, operator, container):
    from skl2onnx.common._apply_operation import (
        apply_cast,
        apply_concat,
        apply_identity,
        apply_reshape,
        apply_sub,
    )
    from skl2onnx.proto import onnx_proto

    model = operator.raw_operator
    dtype = _proto_dtype(operator)
    y = _network_output(scope, operator, container)
    labels_out, proba_out = operator.outputs[0].full_name, operator.outputs[1].full_name
    y_type = model._label_binarizer.y_type_
    if y_type == "multilabel-indicator":
        apply_identity(scope, y, proba_out, container)
        half, above = (scope.get_unique_variable_name(n) for n in ("half", "above"))
        container.add_initializer(half, dtype, [], [0.5])
        container.add_node("Greater", [y, half], above,  # p > 0.5, as predict decides
                           name=scope.get_unique_operator_name("Greater"))
        apply_cast(scope, above, labels_out, container, to=onnx_proto.TensorProto.INT64)
        return
    if model.n_outputs_ == 1:  # binary: [1 - p, p]
        one, negative = (scope.get_unique_variable_name(n) for n in ("one", "negative"))
        container.add_initializer(one, dtype, [], [1.0])
        apply_sub(scope, [one, y], negative, container, broadcast=1)
        apply_concat(scope, [negative, y], proba_out, container, axis=1)
    elif model.loss == "squared_error":  # independent sigmoids, normalised as predict_proba
        ones, total, floor, clipped = (scope.get_unique_variable_name(n) for n in (
            "ones", "total", "floor", "clipped"))
        container.add_initializer(ones, dtype, [model.n_outputs_, 1], [1.0] * model.n_outputs_)
        tiny = float(np.finfo(np.float64 if dtype == onnx_proto.TensorProto.DOUBLE
                              else np.float32).tiny)
        container.add_initializer(floor, dtype, [], [tiny])
        container.add_node("MatMul", [y, ones], total,
                           name=scope.get_unique_operator_name("MatMul"))
        container.add_node("Max", [total, floor], clipped,
                           name=scope.get_unique_operator_name("Max"))
        container.add_node("Div", [y, clipped], proba_out,
                           name=scope.get_unique_operator_name("Div"))
    else:
        apply_identity(scope, y, proba_out, container)
    classes = model.classes_
    if classes.dtype.kind in "biuf":
        class_type, classes = onnx_proto.TensorProto.INT32, classes.astype(np.int32)
    else:
        class_type, classes = onnx_proto.TensorProto.STRING, np.array(
            [str(c).encode("utf-8") for c in classes])
    names = [scope.get_unique_variable_name(n) for n in ("classes", "argmax", "label")]
    container.add_initializer(names[0], class_type, classes.shape, classes)
    container.add_node("ArgMax", proba_out, names[1], axis=1,
                       name=scope.get_unique_operator_name("ArgMax"))
    container.add_node("ArrayFeatureExtractor", [names[0], names[1]], names[2],
                       op_domain="ai.onnx.ml",
                       name=scope.get_unique_operator_name("ArrayFeatureExtractor"))
    if class_type == onnx_proto.TensorProto.INT32:
        flat = scope.get_unique_variable_name("flat")
        apply_reshape(scope, names[2], flat, container, desired_shape=(-1,))
        apply_cast(scope, flat, labels_out, container, to=onnx_proto.TensorProto.INT64)
    else:
        apply_reshape(scope, names[2], labels_out, container, desired_shape=(-1,))


def register():
    """Register fastnn's estimators with skl2onnx (once)."""
    global _registered
    if _registered:
        return
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    from fastnn._mlp import MLPClassifier, MLPRegressor

    update_registered_converter(
        MLPClassifier, "FastnnMLPClassifier", calculate_linear_classifier_output_shapes,
        _convert_classifier,
        options={"zipmap": [True, False, "columns"], "output_class_labels": [False, True],
                 "nocl": [True, False]},
    )
    update_registered_converter(MLPRegressor, "FastnnMLPRegressor", _regressor_shapes,
                                _convert_regressor)
    _registered = True


class _RegisterWhenImported(importlib.abc.MetaPathFinder):
    """Registers fastnn's converters right after skl2onnx is imported, by whoever imports it."""

    def find_spec(self, name, path=None, target=None):
        if name != "skl2onnx":
            return None
        sys.meta_path.remove(self)  # once: find the real spec without this finder
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            exec_module = spec.loader.exec_module

            def exec_and_register(module):
                exec_module(module)
                register()

            spec.loader.exec_module = exec_and_register
        return spec


def install_hook():
    """Make ``skl2onnx.to_onnx`` know fastnn's estimators without importing skl2onnx now (it
    takes seconds): registered at once when skl2onnx is loaded, else when it is imported."""
    if "skl2onnx" in sys.modules:
        register()
    elif not any(isinstance(f, _RegisterWhenImported) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterWhenImported())


def to_onnx(model, X=None, *, target_opset=None, options=None):
    """Export a fitted fastnn model to ONNX (needs skl2onnx).

    Parameters
    ----------
    model : fastnn.MLPClassifier or fastnn.MLPRegressor
        A fitted model: any activation, residual layers, any loss, multi-output and multilabel.
    X : array-like, default=None
        Example input whose float type (float32 or float64) the graph computes in; None uses
        the model's dtype.
    target_opset : int, default=None
        skl2onnx's ``target_opset`` (None: its default).
    options : dict, default=None
        skl2onnx's options for the model; classifiers default to ``{"zipmap": False}``
        (probabilities as a plain tensor).

    Returns
    -------
    onnx.ModelProto
        Inputs ``X`` (n_samples, n_features); outputs the predictions (regressor: shape
        (n_samples, n_outputs)) or the labels and the probabilities (classifier).
    """
    from sklearn.base import is_classifier
    from sklearn.utils.validation import check_is_fitted

    skl2onnx = _skl2onnx()
    register()
    check_is_fitted(model)
    if X is None:
        dtype = np.float64 if model.coefs_[0].dtype == np.float64 else np.float32
        X = np.zeros((1, model.n_features_in_), dtype=dtype)
    if options is None and is_classifier(model):
        options = {"zipmap": False}
    return skl2onnx.to_onnx(model, np.asarray(X)[:1], target_opset=target_opset,
                            options={id(model): options} if options else None)
