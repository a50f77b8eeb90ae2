#include "fastnn/vector_math.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

#ifdef FASTNN_HAVE_SLEEF
#include <immintrin.h>
#include <sleef.h>
#endif
#ifdef FASTNN_HAVE_XSIMD
#include <xsimd/xsimd.hpp>
#endif

namespace fastnn {

namespace {

#define FASTNN_QUOTE_2(x) #x
#define FASTNN_QUOTE(x) FASTNN_QUOTE_2(x)

// One vector of this core's instruction set: Lanes<S>::width values of S, and the functions
// evaluated on exactly that many values in place (p need not be aligned).
template <class S>
struct Lanes;

// V f(V) applied to the `sizeof(V) / sizeof(S)` values at p.
template <class S, class V, V (*f)(V)>
inline void on_vector(S* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  v = f(v);
  std::memcpy(p, &v, sizeof(V));
}

// The logistic function of z, a value or (GCC's vector extension) a vector, through exp:
// 1 / (1 + e) for z >= 0 and e / (1 + e) for z < 0, with e = exp(-|z|) <= 1 (the quotient never
// divides by a large rounded sum). The quotient is taken in Wide, a vector of doubles as long as
// V for floats: its two roundings in float would add to exp's error -- up to 2.40 ulp, measured
// over every float; 1.48 in double.
// (GCC warns that a function returning a vector wider than the instruction set's registers has
// another calling convention under other options: these are internal and inlined, no call
// crosses a module.)
#pragma GCC diagnostic ignored "-Wpsabi"
template <class Wide, class V>
Wide widen(V v) {
  if constexpr (std::is_arithmetic_v<V>) {
    return Wide(v);
  } else {
    return __builtin_convertvector(v, Wide);
  }
}

template <class V, V (*exp)(V), class Wide>
V logistic_of(V z) {
  const V zero{}, one = zero + 1;
  const V e = exp(z < zero ? z : -z);
  const V numerator = z >= zero ? one : e;  // exact: 1 or e
  return widen<V>(widen<Wide>(numerator) / (widen<Wide>(e) + 1));
}

// The same for doubles, which have no wider type. For z < 0 the plain quotient e / (1 + e)
// reached 2.42 ulp (1,858 of 2e8 samples over 2): it is compensated for the rounding of 1 + e
// (s + t = 1 + e exactly, as e <= 1) and of the division (its remainder, exact through a fused
// multiply-add). For z >= 0, 1 / (1 + e) stays plain (within 1.5 ulp): as scipy's expit computes
// it, so 1 - p, which scikit-learn takes for a binary model's other class, agrees with it.
template <class V, V (*exp)(V), V (*fma)(V, V, V)>
V logistic_compensated(V z) {
  const V zero{}, one = zero + 1;
  const V e = exp(z < zero ? z : -z);
  const V numerator = z >= zero ? one : e;
  const V s = one + e, t = (one - s) + e;
  const V q = numerator / s;
  const V remainder = fma(-q, s, numerator);  // numerator - q s, exactly
  return z >= zero ? q : q + (remainder - q * t) / s;
}

// One instruction set's vector types and its SLEEF functions, Sleef_<f><d|f><lanes>_u10<isa>.
#define FASTNN_SLEEF_FUNCTIONS(VD, VF, DOUBLES, FLOATS, ISA)            \
  using VecD = VD;                                                      \
  using VecF = VF;                                                      \
  VecD tanh_d(VecD v) { return Sleef_tanhd##DOUBLES##_u10##ISA(v); }    \
  VecF tanh_f(VecF v) { return Sleef_tanhf##FLOATS##_u10##ISA(v); }     \
  VecD exp_d(VecD v) { return Sleef_expd##DOUBLES##_u10##ISA(v); }      \
  VecF exp_f(VecF v) { return Sleef_expf##FLOATS##_u10##ISA(v); }     \
  VecD fma_d(VecD a, VecD b, VecD c) {                                  \
    return Sleef_fmad##DOUBLES##_##ISA(a, b, c);                        \
  }                                                                     \
  typedef double WideF __attribute__((vector_size(2 * sizeof(VF))));

#if defined(FASTNN_HAVE_SLEEF) && defined(__AVX512F__)
#define FASTNN_SLEEF_ISA "AVX-512, 8 doubles / 16 floats per call"
FASTNN_SLEEF_FUNCTIONS(__m512d, __m512, 8, 16, avx512f)
#elif defined(FASTNN_HAVE_SLEEF) && defined(__AVX2__) && defined(__FMA__)
#define FASTNN_SLEEF_ISA "AVX2 + FMA, 4 doubles / 8 floats per call"
FASTNN_SLEEF_FUNCTIONS(__m256d, __m256, 4, 8, avx2)
#elif defined(FASTNN_HAVE_SLEEF) && defined(__SSE4_1__)
#define FASTNN_SLEEF_ISA "SSE4.1, 2 doubles / 4 floats per call"
FASTNN_SLEEF_FUNCTIONS(__m128d, __m128, 2, 4, sse4)
#elif defined(FASTNN_HAVE_SLEEF) && defined(__SSE2__)
#define FASTNN_SLEEF_ISA "SSE2, 2 doubles / 4 floats per call"
FASTNN_SLEEF_FUNCTIONS(__m128d, __m128, 2, 4, sse2)
#endif

#ifdef FASTNN_SLEEF_ISA
template <>
struct Lanes<double> {
  static constexpr int width = int(sizeof(VecD) / sizeof(double));
  static void tanh(double* p) { on_vector<double, VecD, tanh_d>(p); }
  static void exp(double* p) { on_vector<double, VecD, exp_d>(p); }
  static void logistic(double* p) {
    on_vector<double, VecD, logistic_compensated<VecD, exp_d, fma_d>>(p);
  }
};
template <>
struct Lanes<float> {
  static constexpr int width = int(sizeof(VecF) / sizeof(float));
  static void tanh(float* p) { on_vector<float, VecF, tanh_f>(p); }
  static void exp(float* p) { on_vector<float, VecF, exp_f>(p); }
  static void logistic(float* p) { on_vector<float, VecF, logistic_of<VecF, exp_f, WideF>>(p); }
};
constexpr const char* kLibrary = "SLEEF " FASTNN_QUOTE(SLEEF_VERSION_MAJOR) "." FASTNN_QUOTE(
    SLEEF_VERSION_MINOR) "." FASTNN_QUOTE(SLEEF_VERSION_PATCHLEVEL) " (" FASTNN_SLEEF_ISA ")";
#else
template <class S>
struct Lanes {
  static constexpr int width = 1;
  static void tanh(S* p) { *p = std::tanh(*p); }
  static S exp_of(S z) { return std::exp(z); }
  static void exp(S* p) { *p = exp_of(*p); }
  static S fma_of(S a, S b, S c) { return std::fma(a, b, c); }
  static void logistic(S* p) {
    if constexpr (std::is_same_v<S, float>) {
      *p = logistic_of<S, exp_of, double>(*p);
    } else {
      *p = logistic_compensated<S, exp_of, fma_of>(*p);
    }
  }
};
constexpr const char* kLibrary = "C library (scalar)";
#endif

// tanh. With xsimd, xsimd's (Cephes's method: an odd polynomial below |x| = 0.625, else
// 1 - 2 / (1 + exp(2|x|))) for the best instruction set this core is compiled for: within 1.35
// ulp of the exact value over every float (each instruction set checked), and 2-3x faster than
// SLEEF's 1.0-ulp tanh, whose double-float arithmetic made a tanh net's forward pass ~15% slower
// than a relu net's. Without xsimd, Lanes' tanh.
#ifdef FASTNN_HAVE_XSIMD
template <class S>
struct Tanh {
  using Batch = xsimd::batch<S>;
  static constexpr int width = int(Batch::size);
  static void on_vector(S* p) { xsimd::tanh(Batch::load_unaligned(p)).store_unaligned(p); }
};
#define FASTNN_XSIMD_VERSION                                                     \
  FASTNN_QUOTE(XSIMD_VERSION_MAJOR) "." FASTNN_QUOTE(XSIMD_VERSION_MINOR) "." FASTNN_QUOTE( \
      XSIMD_VERSION_PATCH)
const std::string kTanhLibrary =
    "; tanh: xsimd " FASTNN_XSIMD_VERSION " (" + std::string(xsimd::default_arch::name()) + ")";
#else
template <class S>
struct Tanh {
  static constexpr int width = Lanes<S>::width;
  static void on_vector(S* p) { Lanes<S>::tanh(p); }
};
const std::string kTanhLibrary;
#endif

// block(p) on x[0, n), W values at a time; the tail through a zero-padded copy.
template <class S, int W = Lanes<S>::width, class Block>
void for_each_vector(S* x, Index n, Block block) {
  Index i = 0;
  for (; i + W <= n; i += W) block(x + i);
  if (i < n) {
    S pad[W] = {};
    const size_t bytes = size_t(n - i) * sizeof(S);
    std::memcpy(pad, x + i, bytes);
    block(pad);
    std::memcpy(x + i, pad, bytes);
  }
}

}  // namespace

template <class S>
void tanh_in_place(S* x, Index n) {
  for_each_vector<S, Tanh<S>::width>(x, n, Tanh<S>::on_vector);
}

template <class S>
void exp_in_place(S* x, Index n) {
  for_each_vector(x, n, Lanes<S>::exp);
}

template <class S>
void logistic_in_place(S* x, Index n) {
  for_each_vector(x, n, Lanes<S>::logistic);
}

const char* vector_math_library() {
  static const std::string library = kLibrary + kTanhLibrary;
  return library.c_str();
}

template void tanh_in_place<float>(float*, Index);
template void tanh_in_place<double>(double*, Index);
template void exp_in_place<float>(float*, Index);
template void exp_in_place<double>(double*, Index);
template void logistic_in_place<float>(float*, Index);
template void logistic_in_place<double>(double*, Index);

}  // namespace fastnn
