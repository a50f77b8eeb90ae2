#pragma once
// Elementwise transcendental functions over a contiguous span, in place: the one place the core
// evaluates tanh, exp, the logistic function (softmax and the exp output use exp), elu,
// softplus, silu and gelu.
//
// With SLEEF (Debian's libsleef-dev) they are SLEEF's 1.0-ulp vector functions for the
// instruction set this core is compiled for (AVX-512, AVX2 + FMA, SSE4.1, SSE2); without it, the
// C library's scalar functions. tanh is xsimd's (libxsimd-dev, headers only) when the build has
// it: 1.35 ulp at most over every float, 2-3x faster than SLEEF's. Either way every element goes
// through the same code -- a span's tail through one zero-padded vector -- so a value never
// depends on its position in the span, the buffer's alignment or the thread count.
#include "fastnn/types.hpp"

namespace fastnn {

// x: (n) -> tanh(x), exp(x), 1 / (1 + exp(-x)); each within 2 ulp of the exact value.
template <class S>
void tanh_in_place(S* x, Index n);
template <class S>
void exp_in_place(S* x, Index n);
template <class S>
void logistic_in_place(S* x, Index n);

// x: (n) -> elu(x) = x for x > 0, else expm1(x); within 2 ulp.
template <class S>
void elu_in_place(S* x, Index n);
// z: (n) -> g(z), and derivative: (n) -> g'(z) unless null, for g = softplus, silu and gelu
// (activations.hpp); g(z) within 2 ulp. Evaluated in double (floats widened, rounded once).
template <class S>
void softplus_in_place(S* z, S* derivative, Index n);
template <class S>
void silu_in_place(S* z, S* derivative, Index n);
template <class S>
void gelu_in_place(S* z, S* derivative, Index n);

// "SLEEF 3.5.1 (AVX-512, 8 doubles / 16 floats per call)" or "C library (scalar)".
const char* vector_math_library();

}  // namespace fastnn
