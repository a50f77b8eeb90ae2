#pragma once
// Optimizers over the flat parameter buffer, with scikit-learn's formulas
// (sklearn/neural_network/_stochastic_optimizers.py). State is held by the caller (numpy arrays
// in Python, so a model pickles and `partial_fit` resumes); these structs view it.
//
// Per mini-batch: every thread calls `next_step()` (the step's coefficients, computed from the
// state without changing it), then `update(step, p, g, lo, hi)` on its disjoint ranges [lo, hi)
// of params and gradient; afterwards one thread calls `end_step()`.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "fastnn/types.hpp"

namespace fastnn {

// SGD with momentum:  v ← μ·v − η·g;  Nesterov: update = μ·v − η·g, else update = v;  p += update.
template <class S>
struct SGDState {
  S* velocity;  // (n_params)
  S learning_rate;
  S momentum;
  bool nesterov;

  struct Step {};
  void set_learning_rate(double rate) { learning_rate = S(rate); }
  Step next_step() const { return {}; }
  void end_step() {}
  void update(const Step&, S* p, const S* g, Index lo, Index hi) const {
    const Index n = hi - lo;
    Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>> P(p + lo, n), V(velocity + lo, n);
    Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>> G(g + lo, n);
    V = momentum * V - learning_rate * G;
    if (nesterov) {
      P += momentum * V - learning_rate * G;
    } else {
      P += V;
    }
  }
};

// Adam:  t ← t+1;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//        η_t = η·√(1−β2^t)/(1−β1^t);  p += −η_t·m/(√v + ε).
template <class S>
struct AdamState {
  S* m;  // (n_params)
  S* v;  // (n_params)
  std::int64_t* t;  // (1) steps taken
  double learning_rate;  // η
  double beta_1;
  double beta_2;
  double epsilon;

  struct Step {
    S learning_rate;  // η_t
  };
  // The epoch's η (learning_rate_init under a constant schedule), from which η_t follows.
  void set_learning_rate(double rate) { learning_rate = rate; }
  Step next_step() const {
    const double step = double(*t + 1);
    return {S(learning_rate * std::sqrt(1.0 - std::pow(beta_2, step)) /
              (1.0 - std::pow(beta_1, step)))};
  }
  void end_step() { ++*t; }
  void update(const Step& step, S* __restrict p, const S* __restrict g, Index lo,
              Index hi) const {
    // A plain loop, which the compiler vectorises with exact (IEEE) sqrt and division: Eigen
    // without EIGEN_FAST_MATH has no vectorised float sqrt, so the array expression ran
    // element by element (measured: 45% of a batch-32 epoch). Same operations, same order.
    S* __restrict m_ = m;
    S* __restrict v_ = v;
    const S b1 = S(beta_1), b2 = S(beta_2), c1 = S(1.0 - beta_1), c2 = S(1.0 - beta_2);
    const S lr = step.learning_rate, eps = S(epsilon);
    for (Index i = lo; i < hi; ++i) {
      const S gi = g[i];
      const S mi = b1 * m_[i] + c1 * gi;
      const S vi = b2 * v_[i] + c2 * (gi * gi);
      m_[i] = mi;
      v_[i] = vi;
      p[i] += (-lr * mi) / (std::sqrt(vi) + eps);
    }
  }
};

// AdamW (Loshchilov & Hutter, "Decoupled weight decay regularization", 2019) in PyTorch's
// torch.optim.AdamW form:  p ← p·(1 − η·λ) for the coefficients (the first n_decayed entries;
// intercepts are not decayed), m, v as Adam, then p ← p − η/(1−β1^t) · m / (√v/√(1−β2^t) + ε).
// The loss gradient carries no L2 term (the trainer's alpha is 0): λ is the decay.
template <class S>
struct AdamWState {
  S* m;  // (n_params)
  S* v;  // (n_params)
  std::int64_t* t;  // (1) steps taken
  double learning_rate;  // η
  double beta_1;
  double beta_2;
  double epsilon;
  double decay;  // λ
  Index n_decayed;

  struct Step {
    S step_size;    // η/(1−β1^t)
    S c2_sqrt;      // √(1−β2^t)
    S keep;         // 1 − η·λ
  };
  void set_learning_rate(double rate) { learning_rate = rate; }
  Step next_step() const {
    const double step = double(*t + 1);
    return {S(learning_rate / (1.0 - std::pow(beta_1, step))),
            S(std::sqrt(1.0 - std::pow(beta_2, step))), S(1.0 - learning_rate * decay)};
  }
  void end_step() { ++*t; }
  void update(const Step& step, S* __restrict p, const S* __restrict g, Index lo,
              Index hi) const {
    S* __restrict m_ = m;
    S* __restrict v_ = v;
    const S b1 = S(beta_1), b2 = S(beta_2), c1 = S(1.0 - beta_1), c2 = S(1.0 - beta_2);
    const S eps = S(epsilon);
    for (Index i = lo; i < hi; ++i) {
      const S gi = g[i];
      const S mi = b1 * m_[i] + c1 * gi;
      const S vi = b2 * v_[i] + c2 * (gi * gi);
      m_[i] = mi;
      v_[i] = vi;
      const S pi = i < n_decayed ? p[i] * step.keep : p[i];
      p[i] = pi - step.step_size * mi / (std::sqrt(vi) / step.c2_sqrt + eps);
    }
  }
};

// RMSprop (Tieleman & Hinton, 2012) in PyTorch's torch.optim.RMSprop form (not centred, no
// momentum):  v ← ρ·v + (1−ρ)·g²;  p ← p − η·g / (√v + ε).
template <class S>
struct RMSpropState {
  S* v;  // (n_params)
  double learning_rate;  // η
  double rho;
  double epsilon;

  struct Step {};
  void set_learning_rate(double rate) { learning_rate = rate; }
  Step next_step() const { return {}; }
  void end_step() {}
  void update(const Step&, S* __restrict p, const S* __restrict g, Index lo, Index hi) const {
    S* __restrict v_ = v;
    const S r = S(rho), c = S(1.0 - rho), eps = S(epsilon), lr = S(learning_rate);
    for (Index i = lo; i < hi; ++i) {
      const S gi = g[i];
      const S vi = r * v_[i] + c * (gi * gi);
      v_[i] = vi;
      p[i] -= lr * gi / (std::sqrt(vi) + eps);
    }
  }
};

// iRprop− (Igel & Hüsken 2000; Riedmiller & Braun's Rprop without weight backtracking), PyTorch's
// torch.optim.Rprop step, for full-batch training: per parameter, the step Δ grows by η+ = 1.2
// while the gradient keeps its sign and shrinks by η− = 0.5 when it flips (then that gradient
// is taken as 0), within [1e-6, 50];  p ← p − sign(g)·Δ.  Δ starts at learning_rate_init.
template <class S>
struct RpropState {
  S* previous;  // (n_params) the last gradient used (0 where it flipped)
  S* step;      // (n_params) Δ

  struct Step {};
  void set_learning_rate(double) {}  // the steps adapt themselves
  Step next_step() const { return {}; }
  void end_step() {}
  void update(const Step&, S* __restrict p, const S* __restrict g, Index lo, Index hi) const {
    S* __restrict prev = previous;
    S* __restrict delta = step;
    for (Index i = lo; i < hi; ++i) {
      S gi = g[i];
      const S s = gi * prev[i];
      const S eta = s > S(0) ? S(1.2) : s < S(0) ? S(0.5) : S(1);
      delta[i] = std::min(std::max(delta[i] * eta, S(1e-6)), S(50));
      if (s < S(0)) gi = S(0);
      p[i] -= (gi > S(0) ? S(1) : gi < S(0) ? S(-1) : S(0)) * delta[i];
      prev[i] = gi;
    }
  }
};

}  // namespace fastnn
