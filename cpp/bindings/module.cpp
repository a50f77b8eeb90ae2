// The Python binding: converts, releases the GIL, calls one core function, returns.
// Arrays are taken without conversion (`noconvert` + C-contiguous dtype-exact array_t), so a numpy
// buffer is mapped, never copied; a wrong dtype or layout is a TypeError, not a silent copy.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "fastnn/activations.hpp"
#include "fastnn/build_info.hpp"
#include "fastnn/ceiling.hpp"
#include "fastnn/epoch_rule.hpp"
#include "fastnn/gemm.hpp"
#include "fastnn/inputs.hpp"
#include "fastnn/kernels.hpp"
#include "fastnn/network.hpp"
#include "fastnn/parallel.hpp"
#include "fastnn/trainer.hpp"
#include "fastnn/workspace.hpp"

namespace py = pybind11;
using namespace fastnn;

namespace {

template <class S>
using Array = py::array_t<S, py::array::c_style>;

template <class S>
ConstMatrixMap<S> matrix_view(const Array<S>& a, const char* name) {
  if (a.ndim() != 2) throw py::value_error(std::string(name) + " must be a 2-D array");
  return ConstMatrixMap<S>(a.data(), a.shape(0), a.shape(1));
}

// A CSR matrix's three buffers (scipy's), kept alive while the core views them.
template <class S>
struct CsrArrays {
  Array<S> data;
  py::array_t<std::int32_t, py::array::c_style> indices;
  py::array_t<std::int64_t, py::array::c_style> indptr;
  CsrMatrix<S> view;

  CsrArrays(Array<S> data_, py::array_t<std::int32_t, py::array::c_style> indices_,
            py::array_t<std::int64_t, py::array::c_style> indptr_, Index n_cols)
      : data(std::move(data_)), indices(std::move(indices_)), indptr(std::move(indptr_)) {
    if (data.ndim() != 1 || indices.ndim() != 1 || indptr.ndim() != 1 || indptr.shape(0) < 1 ||
        indices.shape(0) != data.shape(0)) {
      throw py::value_error("CSR buffers must be 1-D, with as many indices as data entries");
    }
    view = {indptr.data(), indices.data(), data.data(), indptr.shape(0) - 1, n_cols};
    view.validate(data.shape(0));
  }
};

// X as the core sees it: a C-contiguous 2-D array of S, or a CsrArrays<S>. Never converted.
template <class S>
FeatureMatrix<S> feature_matrix(const py::object& X) {
  if (py::isinstance<Array<S>>(X)) {  // first: numpy's check is cheaper than a class lookup
    return FeatureMatrix<S>(matrix_view(py::reinterpret_borrow<Array<S>>(X), "X"));
  }
  if (py::isinstance<CsrArrays<S>>(X)) return FeatureMatrix<S>(X.cast<const CsrArrays<S>&>().view);
  throw py::type_error("X must be a C-contiguous 2-D array of dtype " +
                       std::string(py::str(py::dtype::of<S>())) + " or a CSR matrix of it");
}

template <class S>
S* vector_data(Array<S>& a, Index n, const char* name) {
  if (a.ndim() != 1 || a.shape(0) != n) {
    throw py::value_error(std::string(name) + " must be a 1-D array of length " +
                          std::to_string(n));
  }
  return a.mutable_data();  // raises if read-only
}

template <class S>
ConstVectorMap<S> vector_view(const Array<S>& a, const char* name) {
  if (a.ndim() != 1) throw py::value_error(std::string(name) + " must be a 1-D array");
  return ConstVectorMap<S>(a.data(), a.shape(0));
}

template <class S>
const S* params_data(const Array<S>& a, const Network& net) {
  if (a.ndim() != 1 || a.shape(0) != net.n_params()) {
    throw py::value_error("params must be a 1-D array of length " +
                          std::to_string(net.n_params()));
  }
  return a.data();
}

// None, or a C-contiguous 1-D array of T with n entries.
template <class T>
const T* optional_vector(const py::object& obj, Index n, const char* name) {
  if (obj.is_none()) return nullptr;
  if (!py::isinstance<Array<T>>(obj)) {
    throw py::type_error(std::string(name) + " must be None or a C-contiguous array of dtype " +
                         std::string(py::str(py::dtype::of<T>())));
  }
  auto a = py::reinterpret_borrow<Array<T>>(obj);
  if (a.ndim() != 1 || a.shape(0) != n) {
    throw py::value_error(std::string(name) + " must have length " + std::to_string(n));
  }
  return a.data();
}

// None, or a writable C-contiguous 1-D array of T with n entries, updated in place: never a
// converted copy (the caller would not see the update).
template <class T>
T* optional_mutable_vector(const py::object& obj, Index n, const char* name) {
  if (obj.is_none()) return nullptr;
  if (!py::isinstance<Array<T>>(obj)) {
    throw py::type_error(std::string(name) + " must be None or a C-contiguous array of dtype " +
                         std::string(py::str(py::dtype::of<T>())));
  }
  auto a = py::reinterpret_borrow<Array<T>>(obj);
  return vector_data(a, n, name);
}

// Ctrl-C: polled by the core between mini-batches, from the calling thread.
bool python_interrupted() {
  py::gil_scoped_acquire gil;
  return PyErr_CheckSignals() != 0;
}

// Trainer::run_epochs: at most as many epochs as `losses` has entries (one mean loss an epoch
// is written there). order: None (rows in order) or the (n) row order, shuffled in place when
// key and pos (the RandomState's MT19937 state: 624 words, position; updated in place) are
// given. Returns (epochs, interrupted): on Ctrl-C the pending KeyboardInterrupt is cleared and
// reported, so that Python records the epochs completed before raising it again.
template <class S, class Optimizer>
py::tuple run_epochs(Trainer<S>& trainer, Array<S>& params, Optimizer& optimizer,
                     const py::object& X, const Array<S>& Y, const py::object& sample_weight,
                     const py::object& order, const py::object& key, const py::object& pos,
                     EpochRule& rule, py::array_t<double, py::array::c_style> losses,
                     bool apply_rule) {
  S* p = vector_data(params, trainer.network().n_params(), "params");
  const FeatureMatrix<S> x = feature_matrix<S>(X);
  const ConstMatrixMap<S> y = matrix_view(Y, "Y");
  const S* w = optional_vector<S>(sample_weight, x.rows(), "sample_weight");
  if (losses.ndim() != 1) throw py::value_error("losses must be a 1-D array");
  const Index max_epochs = losses.shape(0);
  double* out = vector_data(losses, max_epochs, "losses");
  std::int64_t* rows = optional_mutable_vector<std::int64_t>(order, x.rows(), "order");
  std::optional<LegacyShuffler> shuffler;
  if (!key.is_none()) {
    std::int64_t* position = optional_mutable_vector<std::int64_t>(pos, 1, "pos");
    if (!position) throw py::type_error("pos must be given with key");
    if (*position < 0 || *position > LegacyShuffler::kStateSize) {
      throw py::value_error("pos must be in [0, 624]");
    }
    if (x.rows() > Index(0xffffffffLL)) throw py::value_error("too many rows to shuffle here");
    shuffler.emplace(
        optional_mutable_vector<std::uint32_t>(key, LegacyShuffler::kStateSize, "key"), position);
  }
  Index epochs;
  bool interrupted;
  {
    py::gil_scoped_release release;
    epochs = trainer.run_epochs(p, optimizer, x, y, w, rows, shuffler ? &*shuffler : nullptr,
                                max_epochs, rule, apply_rule, out, python_interrupted,
                                &interrupted);
  }
  if (interrupted) PyErr_Clear();
  return py::make_tuple(epochs, interrupted);
}

template <class S>
double loss_and_gradient(Trainer<S>& trainer, const Array<S>& params, const py::object& X,
                         const Array<S>& Y, const py::object& sample_weight, Array<S>& grad,
                         std::uint64_t epoch = 0) {
  const S* p = params_data(params, trainer.network());
  S* g = vector_data(grad, trainer.network().n_params(), "grad");
  const FeatureMatrix<S> x = feature_matrix<S>(X);
  const ConstMatrixMap<S> y = matrix_view(Y, "Y");
  const S* w = optional_vector<S>(sample_weight, x.rows(), "sample_weight");
  py::gil_scoped_release release;
  return trainer.loss_and_gradient(g, p, x, y, w, epoch);
}

// A fitted network's layers viewed in the arrays that hold them, which it keeps alive: the
// arrays are converted and checked once, then each call checks only that they still have the
// shapes and buffers it viewed (an array reshaped or resized in place is refused).
template <class S>
struct Predictor {
  std::vector<Array<S>> coefs, intercepts;
  LayerViews<S> net;

  Predictor(std::vector<Array<S>> coefs_, std::vector<Array<S>> intercepts_,
            const std::string& hidden_activation, const std::string& output_activation,
            double leaky_slope, const std::vector<bool>& residual)
      : coefs(std::move(coefs_)),
        intercepts(std::move(intercepts_)),
        net{{}, parse_activation(hidden_activation), parse_activation(output_activation),
            leaky_slope, std::vector<char>(residual.begin(), residual.end())} {
    if (coefs.size() != intercepts.size()) {
      throw py::value_error("coefs_ and intercepts_ must have the same length");
    }
    for (size_t l = 0; l < coefs.size(); ++l) {
      net.layers.push_back({matrix_view(coefs[l], "coefs_[i]"),
                            vector_view(intercepts[l], "intercepts_[i]")});
    }
    net.validate();
  }

  // Whether every array still has the buffer and shape this predictor viewed.
  bool views_current() const {
    for (size_t l = 0; l < coefs.size(); ++l) {
      const DenseLayer<S>& layer = net.layers[l];
      if (coefs[l].data() != layer.W.data() || coefs[l].ndim() != 2 ||
          coefs[l].shape(0) != layer.W.rows() || coefs[l].shape(1) != layer.W.cols() ||
          intercepts[l].data() != layer.b.data() || intercepts[l].ndim() != 1 ||
          intercepts[l].shape(0) != layer.b.size()) {
        return false;
      }
    }
    return true;
  }

  py::object operator()(const py::object& X, int n_threads, bool check_finite) const {
    const FeatureMatrix<S> x = checked_input(X);
    if (check_finite && !x.sparse() && !all_finite<S>(x.dense())) return py::none();
    return output(x, n_threads, net);
  }

  // The activations of hidden layer n_hidden (1-based) for X.
  Array<S> hidden(const py::object& X, Index n_hidden, int n_threads) const {
    const FeatureMatrix<S> x = checked_input(X);
    return output(x, n_threads, net.hidden_front(n_hidden));
  }

  // X, once the layers are checked current and X's width the network's.
  FeatureMatrix<S> checked_input(const py::object& X) const {
    if (!views_current()) {
      throw py::value_error("a layer's array was reshaped or resized in place");
    }
    const FeatureMatrix<S> x = feature_matrix<S>(X);
    if (x.cols() != net.n_features()) {
      throw py::value_error("X has " + std::to_string(x.cols()) +
                            " features, but the network expects " +
                            std::to_string(net.n_features()));
    }
    return x;
  }

  // The output of `views` (this network or its front) for X, whose width has been checked.
  static Array<S> output(const FeatureMatrix<S>& x, int n_threads, const LayerViews<S>& views) {
    Array<S> out({x.rows(), views.n_outputs()});
    MatrixMap<S> y(out.mutable_data(), x.rows(), views.n_outputs());
    if (x.rows() < kReleaseGilRows) {  // microseconds: not worth handing the GIL over
      predict<S>(y, views, x, n_threads);
    } else {
      py::gil_scoped_release release;
      predict<S>(y, views, x, n_threads);
    }
    return out;
  }

  // The output for X when X is what the estimator's fast path reads as it is -- a C-contiguous
  // 2-D array of S with rows and this network's width, all finite -- else None; False when
  // the lists `coefs_` / `intercepts_` no longer hold the arrays this predictor views, as it
  // viewed them.
  py::object plain(const py::object& X, const py::list& coefs_now, const py::list& intercepts_now,
                   int n_threads) const {
    if (size_t(py::len(coefs_now)) != coefs.size() ||
        size_t(py::len(intercepts_now)) != intercepts.size()) {
      return py::bool_(false);
    }
    for (size_t l = 0; l < coefs.size(); ++l) {
      if (coefs_now[l].ptr() != coefs[l].ptr() || intercepts_now[l].ptr() != intercepts[l].ptr()) {
        return py::bool_(false);
      }
    }
    if (!views_current()) return py::bool_(false);
    if (!py::isinstance<Array<S>>(X)) return py::none();
    const auto a = py::reinterpret_borrow<Array<S>>(X);
    if (a.ndim() != 2 || a.shape(0) < 1 || a.shape(1) != net.n_features()) return py::none();
    const ConstMatrixMap<S> x(a.data(), a.shape(0), a.shape(1));
    if (!all_finite<S>(x)) return py::none();
    return output(FeatureMatrix<S>(x), n_threads, net);
  }

  static constexpr Index kReleaseGilRows = 16;
};

template <class S>
void bind_dtype(py::module_& m, const char* trainer_name, const char* csr_name,
                const char* predictor_name) {
  py::class_<CsrArrays<S>>(m, csr_name, "A CSR matrix's buffers, validated, viewed in place.")
      .def(py::init<Array<S>, py::array_t<std::int32_t, py::array::c_style>,
                    py::array_t<std::int64_t, py::array::c_style>, Index>(),
           py::arg("data").noconvert(), py::arg("indices").noconvert(),
           py::arg("indptr").noconvert(), py::arg("n_cols"))
      .def_property_readonly("shape", [](const CsrArrays<S>& a) {
        return py::make_tuple(a.view.rows, a.view.cols);
      });

  py::class_<Trainer<S>>(m, trainer_name,
                         "Mini-batch trainer for one fit: owns the workspace, runs whole epochs.")
      .def(py::init<Network, Index, Index, double, int, std::vector<double>, std::uint64_t>(),
           py::arg("network"), py::arg("n_features"), py::arg("batch_size"), py::arg("alpha"),
           py::arg("n_threads") = 0, py::arg("dropout") = std::vector<double>{},
           py::arg("dropout_seed") = 0)
      .def_property_readonly("batch_size", &Trainer<S>::batch_size)
      .def(
          "run_epochs_sgd",
          [](Trainer<S>& t, Array<S> params, Array<S> velocity, const py::object& X,
             const Array<S>& Y, const py::object& sample_weight, const py::object& order,
             const py::object& key, const py::object& pos, EpochRule& rule,
             py::array_t<double, py::array::c_style> losses, double momentum, bool nesterov,
             bool apply_rule) {
            SGDState<S> sgd{vector_data(velocity, t.network().n_params(), "velocity"),
                            S(rule.learning_rate), S(momentum), nesterov};
            return run_epochs(t, params, sgd, X, Y, sample_weight, order, key, pos, rule, losses,
                              apply_rule);
          },
          py::arg("params").noconvert(), py::arg("velocity").noconvert(), py::arg("X"),
          py::arg("Y").noconvert(), py::arg("sample_weight"), py::arg("order"),
          py::arg("key"), py::arg("pos"), py::arg("rule"), py::arg("losses").noconvert(),
          py::arg("momentum"), py::arg("nesterov"), py::arg("apply_rule") = true,
          "SGD epochs (see Trainer::run_epochs); returns (epochs, interrupted).")
      .def(
          "run_epochs_adam",
          [](Trainer<S>& t, Array<S> params, Array<S> m1, Array<S> m2,
             py::array_t<std::int64_t, py::array::c_style> step, const py::object& X,
             const Array<S>& Y, const py::object& sample_weight, const py::object& order,
             const py::object& key, const py::object& pos, EpochRule& rule,
             py::array_t<double, py::array::c_style> losses, double learning_rate_init,
             double beta_1, double beta_2, double epsilon, bool apply_rule) {
            const Index n = t.network().n_params();
            AdamState<S> adam{vector_data(m1, n, "m"), vector_data(m2, n, "v"),
                              vector_data(step, 1, "t"), learning_rate_init, beta_1, beta_2,
                              epsilon};
            return run_epochs(t, params, adam, X, Y, sample_weight, order, key, pos, rule, losses,
                              apply_rule);
          },
          py::arg("params").noconvert(), py::arg("m").noconvert(), py::arg("v").noconvert(),
          py::arg("t").noconvert(), py::arg("X"), py::arg("Y").noconvert(),
          py::arg("sample_weight"), py::arg("order"), py::arg("key"), py::arg("pos"),
          py::arg("rule"), py::arg("losses").noconvert(),
          py::arg("learning_rate_init"), py::arg("beta_1"), py::arg("beta_2"),
          py::arg("epsilon"), py::arg("apply_rule") = true,
          "Adam epochs (see Trainer::run_epochs); returns (epochs, interrupted). t: int64 (1,), "
          "the step count, updated.")
      .def(
          "run_epochs_adamw",
          [](Trainer<S>& t, Array<S> params, Array<S> m1, Array<S> m2,
             py::array_t<std::int64_t, py::array::c_style> step, const py::object& X,
             const Array<S>& Y, const py::object& sample_weight, const py::object& order,
             const py::object& key, const py::object& pos, EpochRule& rule,
             py::array_t<double, py::array::c_style> losses, double beta_1, double beta_2,
             double epsilon, double decay, bool apply_rule) {
            const Index n = t.network().n_params();
            AdamWState<S> adamw{vector_data(m1, n, "m"), vector_data(m2, n, "v"),
                                vector_data(step, 1, "t"), rule.learning_rate, beta_1, beta_2,
                                epsilon, decay, t.network().n_coefs()};
            return run_epochs(t, params, adamw, X, Y, sample_weight, order, key, pos, rule,
                              losses, apply_rule);
          },
          py::arg("params").noconvert(), py::arg("m").noconvert(), py::arg("v").noconvert(),
          py::arg("t").noconvert(), py::arg("X"), py::arg("Y").noconvert(),
          py::arg("sample_weight"), py::arg("order"), py::arg("key"), py::arg("pos"),
          py::arg("rule"), py::arg("losses").noconvert(), py::arg("beta_1"), py::arg("beta_2"),
          py::arg("epsilon"), py::arg("decay"), py::arg("apply_rule") = true,
          "AdamW epochs (decay on the coefficients; see optimizers.hpp); returns (epochs, "
          "interrupted).")
      .def(
          "run_epochs_rmsprop",
          [](Trainer<S>& t, Array<S> params, Array<S> v, const py::object& X, const Array<S>& Y,
             const py::object& sample_weight, const py::object& order, const py::object& key,
             const py::object& pos, EpochRule& rule,
             py::array_t<double, py::array::c_style> losses, double rho, double epsilon,
             bool apply_rule) {
            RMSpropState<S> rmsprop{vector_data(v, t.network().n_params(), "v"),
                                    rule.learning_rate, rho, epsilon};
            return run_epochs(t, params, rmsprop, X, Y, sample_weight, order, key, pos, rule,
                              losses, apply_rule);
          },
          py::arg("params").noconvert(), py::arg("v").noconvert(), py::arg("X"),
          py::arg("Y").noconvert(), py::arg("sample_weight"), py::arg("order"), py::arg("key"),
          py::arg("pos"), py::arg("rule"), py::arg("losses").noconvert(), py::arg("rho"),
          py::arg("epsilon"), py::arg("apply_rule") = true,
          "RMSprop epochs (see optimizers.hpp); returns (epochs, interrupted).")
      .def(
          "run_epochs_rprop",
          [](Trainer<S>& t, Array<S> params, Array<S> previous, Array<S> step,
             const py::object& X, const Array<S>& Y, const py::object& sample_weight,
             const py::object& order, const py::object& key, const py::object& pos,
             EpochRule& rule, py::array_t<double, py::array::c_style> losses, bool apply_rule) {
            const Index n = t.network().n_params();
            RpropState<S> rprop{vector_data(previous, n, "previous"), vector_data(step, n, "step")};
            return run_epochs(t, params, rprop, X, Y, sample_weight, order, key, pos, rule,
                              losses, apply_rule);
          },
          py::arg("params").noconvert(), py::arg("previous").noconvert(),
          py::arg("step").noconvert(), py::arg("X"), py::arg("Y").noconvert(),
          py::arg("sample_weight"), py::arg("order"), py::arg("key"), py::arg("pos"),
          py::arg("rule"), py::arg("losses").noconvert(), py::arg("apply_rule") = true,
          "iRprop- epochs (see optimizers.hpp); returns (epochs, interrupted).")
      .def(
          "loss_and_gradient",
          [](Trainer<S>& t, const Array<S>& params, const py::object& X, const Array<S>& Y,
             const py::object& sample_weight, Array<S> grad, std::uint64_t epoch) {
            return loss_and_gradient(t, params, X, Y, sample_weight, grad, epoch);
          },
          py::arg("params").noconvert(), py::arg("X"), py::arg("Y").noconvert(),
          py::arg("sample_weight"), py::arg("grad").noconvert(), py::arg("epoch") = 0,
          "Full-batch loss (returned) and gradient (written into grad), as sklearn's _backprop; "
          "with dropout, of the network thinned by epoch's masks.");

  m.def(
      "mean_loss",
      [](const Array<S>& Yhat, const Array<S>& Y, const py::object& sample_weight,
         const std::string& loss, double loss_param) {
        const ConstMatrixMap<S> yhat = matrix_view(Yhat, "Yhat"), y = matrix_view(Y, "Y");
        if (y.rows() != yhat.rows() || y.cols() != yhat.cols()) {
          throw py::value_error("Y must have the shape of Yhat");
        }
        const Loss parsed = parse_loss(loss);
        check_loss_param(parsed, loss_param);
        return mean_loss<S>(yhat, y, optional_vector<S>(sample_weight, y.rows(), "sample_weight"),
                            parsed, loss_param);
      },
      py::arg("Yhat").noconvert(), py::arg("Y").noconvert(), py::arg("sample_weight"),
      py::arg("loss"), py::arg("loss_param") = 0.0,
      "A data set's loss given the network's outputs Yhat (fastnn/losses.hpp's mean_loss): the "
      "weighted mean of the rows' losses, no penalty; NaN when the weights sum to 0.");
  m.def(
      "all_finite", [](const Array<S>& X) { return all_finite<S>(matrix_view(X, "X")); },
      py::arg("X").noconvert(), "True when no entry of the 2-D array X is NaN or inf.");

  py::class_<Predictor<S>>(m, predictor_name,
                           "A fitted network's layers viewed in the arrays that hold them (kept "
                           "alive, read in place), for repeated prediction.")
      .def(py::init<std::vector<Array<S>>, std::vector<Array<S>>, const std::string&,
                    const std::string&, double, const std::vector<bool>&>(),
           py::arg("coefs").noconvert(), py::arg("intercepts").noconvert(),
           py::arg("hidden_activation"), py::arg("output_activation"), py::arg("leaky_slope"),
           py::arg("residual") = std::vector<bool>{})
      .def("__call__", &Predictor<S>::operator(), py::arg("X"), py::arg("n_threads") = 0,
           py::arg("check_finite") = false,
           "The network's output for X (output activation applied); None when check_finite "
           "and dense X holds a NaN or an infinity.")
      .def("hidden", &Predictor<S>::hidden, py::arg("X"), py::arg("n_hidden"),
           py::arg("n_threads") = 0,
           "The activations of hidden layer n_hidden (1-based) for X (dense or CSR, validated).")
      .def("plain", &Predictor<S>::plain, py::arg("X"), py::arg("coefs"), py::arg("intercepts"),
           py::arg("n_threads") = 0,
           "The output for X when X is a finite C-contiguous 2-D array of this dtype and width "
           "with rows, else None; False when the lists coefs / intercepts do not hold the "
           "arrays this predictor views.");
  m.def(
      "predict",
      [](std::vector<Array<S>> coefs, std::vector<Array<S>> intercepts,
         const std::string& hidden_activation, const std::string& output_activation,
         double leaky_slope, const py::object& X, int n_threads,
         const std::vector<bool>& residual) {
        return Predictor<S>(std::move(coefs), std::move(intercepts), hidden_activation,
                            output_activation, leaky_slope, residual)(X, n_threads, false);
      },
      py::arg("coefs").noconvert(), py::arg("intercepts").noconvert(),
      py::arg("hidden_activation"), py::arg("output_activation"), py::arg("leaky_slope"),
      py::arg("X"), py::arg("n_threads") = 0, py::arg("residual") = std::vector<bool>{},
      "The network's output for X (output activation applied), reading each layer's "
      "coefficient and intercept arrays in place. residual: per layer, whether it is residual.");

  m.def(
      "loss_and_gradient",
      [](const Network& net, const Array<S>& params, const py::object& X, const Array<S>& Y,
         const py::object& sample_weight, double alpha, Array<S> grad, int n_threads) {
        const FeatureMatrix<S> x = feature_matrix<S>(X);
        Trainer<S> trainer(net, x.cols(), std::max<Index>(x.rows(), 1), alpha, n_threads);
        return loss_and_gradient(trainer, params, X, Y, sample_weight, grad);
      },
      py::arg("network"), py::arg("params").noconvert(), py::arg("X"),
      py::arg("Y").noconvert(), py::arg("sample_weight"), py::arg("alpha"),
      py::arg("grad").noconvert(), py::arg("n_threads") = 0,
      "Full-batch loss (returned) and gradient (written into grad), as sklearn's _backprop.");
}

}  // namespace

#ifndef FASTNN_MODULE_NAME
#define FASTNN_MODULE_NAME _core
#endif

PYBIND11_MODULE(FASTNN_MODULE_NAME, m) {
  m.doc() = "fastnn's C++ core (Eigen + OpenMP).";
  // scikit-learn raises a plain ZeroDivisionError there (np.average); so does fastnn.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ZeroWeightBatch& e) {
      PyErr_SetString(PyExc_ZeroDivisionError, e.what());
    }
  });
  py::class_<Network>(m, "Network", "A dense network's shape, activations and loss.")
      .def(py::init([](std::vector<Index> layer_units, const std::string& hidden_activation,
                       const std::string& output_activation, const std::string& loss,
                       double leaky_slope, const std::vector<bool>& residual, double loss_param) {
             return Network(std::move(layer_units), parse_activation(hidden_activation),
                            parse_activation(output_activation), parse_loss(loss), leaky_slope,
                            std::vector<char>(residual.begin(), residual.end()), loss_param);
           }),
           py::arg("layer_units"), py::arg("hidden_activation"), py::arg("output_activation"),
           py::arg("loss"), py::arg("leaky_slope") = 0.01,
           py::arg("residual") = std::vector<bool>{}, py::arg("loss_param") = 0.0,
           "residual: per weight layer, whether it is residual (empty: none). loss_param: "
           "huber's delta or quantile's q.")
      .def_property_readonly("loss_param", &Network::loss_param)
      .def_property_readonly("layer_units", &Network::layer_units)
      .def_property_readonly("n_params", &Network::n_params)
      .def_property_readonly("n_coefs", &Network::n_coefs)
      .def_property_readonly("hidden_activation",
                             [](const Network& n) { return activation_name(n.hidden_activation()); })
      .def_property_readonly("output_activation",
                             [](const Network& n) { return activation_name(n.output_activation()); })
      .def_property_readonly("leaky_slope", &Network::leaky_slope)
      .def_property_readonly("residual_layers", [](const Network& n) {
        return std::vector<bool>(n.residual_layers().begin(), n.residual_layers().end());
      });
  py::class_<EpochRule>(m, "EpochRule",
                        "scikit-learn's rules between epochs, and their state (see "
                        "cpp/fastnn/epoch_rule.hpp).")
      .def(py::init([](double tol, double n_iter_no_change, const std::string& schedule,
                       const std::string& criterion, double learning_rate_init, double power_t,
                       double learning_rate, double best, double no_improvement_count,
                       std::int64_t samples_seen, bool incremental, std::int64_t warmup_epochs,
                       std::int64_t horizon, double plateau_rate, std::int64_t epoch) {
             using Schedule = EpochRule::Schedule;
             static const std::pair<const char*, Schedule> schedules[] = {
                 {"constant", Schedule::constant}, {"invscaling", Schedule::invscaling},
                 {"adaptive", Schedule::adaptive}, {"cosine", Schedule::cosine},
                 {"step", Schedule::step},         {"plateau", Schedule::plateau},
                 {"given", Schedule::given}};
             EpochRule r;
             const auto found = std::find_if(std::begin(schedules), std::end(schedules),
                                             [&](const auto& p) { return schedule == p.first; });
             if (found == std::end(schedules)) {
               throw std::invalid_argument("unknown learning-rate schedule");
             }
             r.schedule = found->second;
             r.tol = tol;
             r.n_iter_no_change = n_iter_no_change;
             r.criterion = criterion == "training_loss" ? EpochRule::Criterion::training_loss
                           : criterion == "validation_score"
                               ? EpochRule::Criterion::validation_score
                               : throw std::invalid_argument("unknown stopping criterion");
             r.learning_rate_init = learning_rate_init;
             r.power_t = power_t;
             r.learning_rate = learning_rate;
             r.best = best;
             r.no_improvement_count = no_improvement_count;
             r.samples_seen = samples_seen;
             r.incremental = incremental;
             r.warmup_epochs = warmup_epochs;
             r.horizon = horizon;
             r.plateau_rate = plateau_rate;
             r.epoch = epoch;
             return r;
           }),
           py::arg("tol"), py::arg("n_iter_no_change"), py::arg("schedule"),
           py::arg("criterion"), py::arg("learning_rate_init"), py::arg("power_t"),
           py::arg("learning_rate"), py::arg("best"), py::arg("no_improvement_count"),
           py::arg("samples_seen"), py::arg("incremental") = false,
           py::arg("warmup_epochs") = 0, py::arg("horizon") = 200, py::arg("plateau_rate") = 0.0,
           py::arg("epoch") = 0)
      .def("begin_epoch", &EpochRule::begin_epoch,
           "Before an epoch: sets learning_rate for it, counts the epoch.")
      .def("record", &EpochRule::record, py::arg("value"), py::arg("n_samples"),
           "After an epoch: its criterion value and sample count. True on a new best.")
      .def(
          "decide",
          [](EpochRule& r) {
            switch (r.decide()) {
              case EpochRule::Decision::go_on: return "go_on";
              case EpochRule::Decision::lower_learning_rate: return "lower_learning_rate";
              case EpochRule::Decision::stop: break;
            }
            return "stop";
          },
          "After record: 'go_on', 'lower_learning_rate' (adaptive schedule) or 'stop'.")
      .def_readonly("learning_rate", &EpochRule::learning_rate)
      .def_readonly("best", &EpochRule::best)
      .def_readonly("no_improvement_count", &EpochRule::no_improvement_count)
      .def_readonly("samples_seen", &EpochRule::samples_seen)
      .def_readonly("plateau_rate", &EpochRule::plateau_rate)
      .def_readonly("epoch", &EpochRule::epoch)
      .def_readwrite("factor", &EpochRule::factor,
                     "The 'given' schedule's factor for the next epoch.")
      .def_readonly("stopped", &EpochRule::stopped);
  bind_dtype<float>(m, "Trainer32", "CsrMatrix32", "Predictor32");
  bind_dtype<double>(m, "Trainer64", "CsrMatrix64", "Predictor64");
  m.def(
      "output_activation_for",
      [](const std::string& loss) { return activation_name(output_activation_for(parse_loss(loss))); },
      py::arg("loss"), "The output activation a core loss is paired with (its canonical link).");
  m.def(
      "plan_memory",
      [](const Network& net, Index batch_size, int n_threads, bool dropout) {
        const MemoryPlan p = plan_memory(net, batch_size, n_threads, dropout);
        py::dict d;
        d["column_mode"] = p.column_mode;
        d["item_mode"] = p.item_mode;
        d["row_items"] = p.row_items;
        py::list tiles;
        for (const GradientTile& t : p.tiles) tiles.append(py::make_tuple(t.layer, t.r0, t.r1));
        d["tiles"] = tiles;
        d["tile_cost"] = p.tile_cost;
        d["shared_weights"] = p.shared_weights;
        d["shared_deltas"] = p.shared_deltas;
        d["min_chunk_rows"] = p.min_chunk_rows;
        d["max_rows"] = p.max_rows;
        d["n_chunk_workspaces"] = p.n_chunk_workspaces;
        d["x"] = p.x;
        d["y"] = p.y;
        d["w"] = p.w;
        d["act"] = p.act;
        d["delta"] = p.delta;
        d["pre"] = p.pre;
        d["skip"] = p.skip;
        d["grad"] = p.grad;
        d["gemm_dim"] = p.gemm_dim;
        d["chunk_gemm"] = p.chunk_gemm;
        d["n_thread_gemm"] = p.n_thread_gemm;
        d["column_blocks"] = p.column_blocks;
        d["n_slices"] = p.n_slices;
        return d;
      },
      py::arg("network"), py::arg("batch_size"), py::arg("n_threads") = 0,
      py::arg("dropout") = false,
      "The memory plan of a Trainer (fastnn/workspace.hpp's MemoryPlan), sizes in elements: "
      "x, y, w, act, delta, pre, skip, grad are each chunk workspace's buffers.");
  m.def(
      "build_info",
      [] {
        const BuildInfo b = build_info();
        py::dict d;
        d["eigen_version"] = b.eigen_version;
        d["eigen_source"] = b.eigen_source;
        d["simd"] = b.simd;
        d["compiler"] = b.compiler;
        d["flags"] = b.flags;
        d["native"] = b.native;
        d["openmp"] = b.openmp;
        d["vector_math"] = b.vector_math;
        return d;
      },
      "How the core was built (fastnn/build_info.hpp): Eigen version and where it came from, SIMD in use, compiler, "
      "compile options, -march=native or not, OpenMP version, the vector math library.");
  const auto as_tuple = [](const CacheSizes& c) { return py::make_tuple(c.l1, c.l2, c.l3); };
  m.def(
      "gemm_cache_sizes", [as_tuple] { return as_tuple(gemm_cache_sizes()); },
      "The (L1, L2, L3) cache sizes in bytes Eigen's GEMM blocking uses: pinned, whatever the CPU "
      "(fastnn/gemm.hpp), so a build rounds the same on every machine.");
  m.def(
      "detected_cache_sizes", [as_tuple] { return as_tuple(detected_cache_sizes()); },
      "The (L1, L2, L3) cache sizes in bytes this CPU reports (ignored by the blocking).");
  m.def(
      "_set_gemm_cache_sizes",
      [](Index l1, Index l2, Index l3) { set_gemm_cache_sizes({l1, l2, l3}); },
      py::arg("l1"), py::arg("l2"), py::arg("l3"),
      "For tests only: the cache sizes Eigen's blocking uses from now on, as on a CPU reporting "
      "them.");
  m.def(
      "_activate",
      [](py::array Z, const std::string& activation, double slope, py::object derivative) {
        // In place, as a layer's forward pass applies it (zero bias); Z may be any C-contiguous
        // 2-D float array, at any alignment. derivative: an array of Z's shape and dtype
        // receiving g'(Z), for the activations that keep their derivative, or None.
        const Activation g = parse_activation(activation);
        const auto run = [&](auto tag) {
          using S = decltype(tag);
          Array<S> a = Z.cast<Array<S>>();
          if (a.ndim() != 2) throw py::value_error("Z must be a 2-D array");
          const bool want = !derivative.is_none();
          Array<S> d;
          if (want) {
            if (!py::isinstance<Array<S>>(derivative)) {
              throw py::type_error("derivative must be a C-contiguous array of Z's dtype");
            }
            d = derivative.cast<Array<S>>();
            if (d.ndim() != 2 || d.shape(0) != a.shape(0) || d.shape(1) != a.shape(1)) {
              throw py::value_error("derivative must have Z's shape");
            }
          }
          const Vector<S> zero = Vector<S>::Zero(a.shape(1));
          py::gil_scoped_release release;
          MatrixRef<S> D = MatrixMap<S>(want ? d.mutable_data() : a.mutable_data(), a.shape(0),
                                        a.shape(1));
          add_bias_and_activate<S>(MatrixMap<S>(a.mutable_data(), a.shape(0), a.shape(1)),
                                   ConstVectorMap<S>(zero.data(), zero.size()), g, S(slope),
                                   want ? &D : nullptr);
        };
        if (py::isinstance<Array<float>>(Z)) return run(float());
        if (py::isinstance<Array<double>>(Z)) return run(double());
        throw py::type_error("Z must be a C-contiguous float32 or float64 array");
      },
      py::arg("Z"), py::arg("activation"), py::arg("slope") = 0.01,
      py::arg("derivative") = py::none(),
      "For tests only: Z <- g(Z) in place, the forward pass's activation (fastnn/activations.hpp), "
      "and derivative <- g'(Z) where the activation keeps its derivative.");
  m.def("max_threads", &max_threads, "OpenMP's thread limit for the calling thread.");
  m.def("barrier_seconds", &barrier_seconds, py::arg("threads"), py::arg("rounds"),
        py::call_guard<py::gil_scoped_release>(),
        "Seconds an OpenMP barrier of a team of `threads` takes (mean over `rounds`).");
  m.def("serial_after_fork", &serial_after_fork,
        "Whether this process is a fork() child running fastnn on one thread, its parent having "
        "forked without releasing its OpenMP thread pool (fastnn/parallel.hpp).");
  m.def("_simulate_pool_kept_over_fork", &simulate_pool_kept_over_fork,
        "For tests only: the next fork() behaves as if the thread pool could not be released.");
  m.def(
      "gemm_gflops",
      [](Index m, Index k, Index n, int n_threads, int repeats, const std::string& dtype,
         const std::string& form) {
        const ProductForm f = form == "a_b"    ? ProductForm::a_b
                              : form == "at_b" ? ProductForm::at_b
                              : form == "a_bt" ? ProductForm::a_bt
                                               : throw std::invalid_argument(
                                                     "form must be 'a_b', 'at_b' or 'a_bt'");
        py::gil_scoped_release release;
        if (dtype == "float32") return gemm_gflops<float>(m, k, n, n_threads, repeats, f);
        if (dtype == "float64") return gemm_gflops<double>(m, k, n, n_threads, repeats, f);
        throw std::invalid_argument("dtype must be 'float32' or 'float64'");
      },
      py::arg("m"), py::arg("k"), py::arg("n"), py::arg("n_threads") = 0,
      py::arg("repeats") = 10, py::arg("dtype") = "float32", py::arg("form") = "a_b",
      "GEMM ceiling: GFLOP/s of one single-threaded (m,k)x(k,n) Eigen product per thread, all "
      "threads at once, built with fastnn's flags.");
  m.attr("has_openmp") = kHaveOpenMP;
  m.attr("__version__") = FASTNN_VERSION;
}
