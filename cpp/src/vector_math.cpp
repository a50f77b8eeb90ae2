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
  VecD expm1_d(VecD v) { return Sleef_expm1d##DOUBLES##_u10##ISA(v); }  \
  VecF expm1_f(VecF v) { return Sleef_expm1f##FLOATS##_u10##ISA(v); }  \
  VecD log1p_d(VecD v) { return Sleef_log1pd##DOUBLES##_u10##ISA(v); }  \
  VecF log1p_f(VecF v) { return Sleef_log1pf##FLOATS##_u10##ISA(v); }  \
  VecD erfc_d(VecD v) { return Sleef_erfcd##DOUBLES##_u15##ISA(v); }    \
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

// The activations that keep their derivative (softplus, silu, gelu: see activations.hpp), each
// value and derivative from one formula over lanes of doubles V, with M's functions of V (exp,
// log1p, erfc, fma). Doubles are evaluated as they are; floats are widened to doubles (a V of
// twice a float vector's bytes, its functions called half by half) and each result rounded once:
// one formula per function. Where exp's argument is the input itself (F::exp_of_input: ±z),
// floats take float exp (half the cost of double's; 1 ulp) and the rest in double: within 1.5
// ulp of float; gelu's exp(-y²) and erfc are double's.

// softplus(z) = log(1 + exp(z)) = max(z, 0) + log1p(e), e = exp(-|z|) (no overflow, no
// cancellation); its derivative is the logistic function, 1 / (1 + e) or e / (1 + e).
struct Softplus {
  static constexpr bool exp_of_input = true;
  template <class V, class M>
  static void run(V z, V& a, V& d) {
    const V zero{}, one = zero + 1;
    const V e = M::exp(z < zero ? z : -z);
    a = (z > zero ? z : zero) + M::log1p(e);
    d = (z >= zero ? one : e) / (one + e);
  }
};

// silu(z) = z σ(z) = z n / (1 + e), n = 1 for z >= 0, else e (e = exp(-|z|) <= 1), with the
// product z n and the sum 1 + e carried exactly (fma; s + t = 1 + e as e <= 1) into a quotient
// (a product with 1 / s) corrected for its own rounding: only exp's error remains (a plain
// z e / (1 + e) is rounded three times). Its derivative σ(z) (1 + z (1 - σ(z))), with 1 - σ(z) = m / (1 + e), m = e or 1.
struct Silu {
  static constexpr bool exp_of_input = true;
  template <class V, class M>
  static void run(V z, V& a, V& d) {
    const V zero{}, one = zero + 1;
    const V e = M::exp(z < zero ? z : -z);
    const V n = z >= zero ? one : e, m = z >= zero ? e : one;
    const V s = one + e, t = (one - s) + e;
    const V r = one / s;  // one division; the correction absorbs the product's rounding
    const V p = z * n, p_low = M::fma(z, n, -p);      // z n = p + p_low
    const V q = p * r, remainder = M::fma(-q, s, p);  // p - q s
    const V correction = (remainder + p_low - q * t) * r;
    a = correction == correction ? q + correction : q;  // z = +inf: q itself
    d = (n * r) * (one + z * m * r);
  }
};

// gelu(z) = z Φ(z), Φ the standard normal distribution function, exactly (erf-based, not the
// tanh approximation), through E = erfc(y), y = |z| / √2: Φ(z) = E / 2 for z < 0, 1 - E / 2
// for z >= 0, where gelu(z) = z - z E / 2 is taken in one rounding (fma). y is rounded:
// y + y_low = |z| / √2 to twice the precision, and erfc(y + y_low) = erfc(y) - y_low 2 / √π
// exp(-y²) to first order, which matters where erfc is steep (z << 0: with y alone, scipy's
// erfc gives up to 1,400 ulp by z = -30, growing as z²).
// Its derivative Φ(z) + z φ(z), with φ(z) = exp(-z² / 2) / √(2π) = exp(-y²) / √(2π).
struct Gelu {
  static constexpr bool exp_of_input = false;
  template <class V, class M>
  static void run(V z, V& a, V& d) {
    constexpr double kRootHalfHigh = 0.7071067811865476, kRootHalfLow = -4.833646656726457e-17;
    constexpr double kTwoOverRootPi = 1.1283791670955126, kOneOverRootTwoPi = 0.3989422804014327;
    const V zero{}, half = zero + 0.5, one = zero + 1;
    const V magnitude = z < zero ? -z : z;
    const V y = magnitude * kRootHalfHigh;
    const V y_low = M::fma(magnitude, zero + kRootHalfHigh, -y) + magnitude * kRootHalfLow;
    const V gauss = M::exp(-y * y);
    const V E = M::erfc(y) - (y_low == y_low ? y_low : zero) * kTwoOverRootPi * gauss;
    const V half_z = half * z;
    a = z < zero ? half_z * E : E == zero ? z : M::fma(-half_z, E, z);  // (z = +inf: z)
    d = (z < zero ? half * E : one - half * E) + z * gauss * kOneOverRootTwoPi;
  }
};

// One vector of S (Native) at z: F's value written there and its derivative at d, evaluated in
// Wide, a vector of as many doubles, with M's functions (InputExpM's where F::exp_of_input).
template <class S, class Native, class Wide, class M, class InputExpM = M>
struct DerivativeLanes {
  static constexpr int width = int(sizeof(Native) / sizeof(S));
  template <class F>
  static void on_vector(S* z, S* d) {
    Native v;
    std::memcpy(&v, z, sizeof(v));
    Wide a, g;
    using Math = std::conditional_t<F::exp_of_input, InputExpM, M>;
    F::template run<Wide, Math>(widen<Wide>(v), a, g);
    v = widen<Native>(a);  // (rounded: to float, or double to double)
    std::memcpy(z, &v, sizeof(v));
    v = widen<Native>(g);
    std::memcpy(d, &v, sizeof(v));
  }
};

#ifdef FASTNN_SLEEF_ISA
struct VecDMath {
  static VecD exp(VecD v) { return exp_d(v); }
  static VecD log1p(VecD v) { return log1p_d(v); }
  static VecD erfc(VecD v) { return erfc_d(v); }
  static VecD fma(VecD a, VecD b, VecD c) { return fma_d(a, b, c); }
};
// A float vector's worth of doubles, through VecD's functions half by half.
struct WideFMath {
  template <VecD (*f)(VecD)>
  static WideF halves(WideF w) {
    VecD h[2];
    std::memcpy(h, &w, sizeof(w));
    h[0] = f(h[0]);
    h[1] = f(h[1]);
    std::memcpy(&w, h, sizeof(w));
    return w;
  }
  static WideF exp(WideF v) { return halves<exp_d>(v); }
  static WideF log1p(WideF v) { return halves<log1p_d>(v); }
  static WideF erfc(WideF v) { return halves<erfc_d>(v); }
  static WideF fma(WideF a, WideF b, WideF c) {
    VecD h[3][2];
    std::memcpy(h[0], &a, sizeof(a));
    std::memcpy(h[1], &b, sizeof(b));
    std::memcpy(h[2], &c, sizeof(c));
    for (int i = 0; i < 2; ++i) h[0][i] = fma_d(h[0][i], h[1][i], h[2][i]);
    std::memcpy(&a, h[0], sizeof(a));
    return a;
  }
};
// The same with float exp, for arguments that are floats (the input itself: exact), except
// below -87 where float's exp is subnormal (few digits: silu's z·e is normal down to -103): the
// lanes there take double's, so each value's result is the same whatever its neighbours.
struct WideFMathFloatExp : WideFMath {
  static WideF exp(WideF v) {
    const WideF e = widen<WideF>(exp_f(__builtin_convertvector(v, VecF)));
    const auto subnormal = v < -87.0;
    bool any = false;
    for (int i = 0; i < int(sizeof(WideF) / sizeof(double)); ++i) any = any || subnormal[i];
    return any ? (subnormal ? WideFMath::exp(v) : e) : e;
  }
  // softplus's log1p(e): e is a float from exp above (exact as an argument)
  static WideF log1p(WideF v) { return widen<WideF>(log1p_f(__builtin_convertvector(v, VecF))); }
};
template <class S>
using KeptDerivative =
    std::conditional_t<std::is_same_v<S, double>, DerivativeLanes<double, VecD, VecD, VecDMath>,
                       DerivativeLanes<float, VecF, WideF, WideFMath, WideFMathFloatExp>>;
VecF elu_f(VecF z) { return z > VecF{} ? z : expm1_f(z); }
VecD elu_d(VecD z) { return z > VecD{} ? z : expm1_d(z); }
template <class S>
void elu_vector(S* p) {
  if constexpr (std::is_same_v<S, double>) {
    on_vector<double, VecD, elu_d>(p);
  } else {
    on_vector<float, VecF, elu_f>(p);
  }
}
#else
struct ScalarMath {
  static double exp(double v) { return std::exp(v); }
  static double log1p(double v) { return std::log1p(v); }
  static double erfc(double v) { return std::erfc(v); }
  static double fma(double a, double b, double c) { return std::fma(a, b, c); }
};
template <class S>
using KeptDerivative = DerivativeLanes<S, S, double, ScalarMath>;
template <class S>
void elu_vector(S* p) {
  *p = *p > S(0) ? *p : std::expm1(*p);
}
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

template <class S>
void elu_in_place(S* x, Index n) {
  for_each_vector(x, n, elu_vector<S>);
}

// F on z[0, n), its derivative into d (or discarded when d is null), W values at a time; the
// tail through zero-padded copies.
template <class S, class F>
void with_derivative(S* z, S* d, Index n) {
  constexpr int W = KeptDerivative<S>::width;
  S discard[W];
  Index i = 0;
  for (; i + W <= n; i += W) {
    KeptDerivative<S>::template on_vector<F>(z + i, d ? d + i : discard);
  }
  if (i < n) {
    S pad[W] = {}, pad_d[W];
    const size_t bytes = size_t(n - i) * sizeof(S);
    std::memcpy(pad, z + i, bytes);
    KeptDerivative<S>::template on_vector<F>(pad, pad_d);
    std::memcpy(z + i, pad, bytes);
    if (d) std::memcpy(d + i, pad_d, bytes);
  }
}

template <class S>
void softplus_in_place(S* z, S* derivative, Index n) {
  with_derivative<S, Softplus>(z, derivative, n);
}

template <class S>
void silu_in_place(S* z, S* derivative, Index n) {
  with_derivative<S, Silu>(z, derivative, n);
}

template <class S>
void gelu_in_place(S* z, S* derivative, Index n) {
  with_derivative<S, Gelu>(z, derivative, n);
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
template void elu_in_place<float>(float*, Index);
template void elu_in_place<double>(double*, Index);
#define FASTNN_INSTANTIATE(f)                   \
  template void f<float>(float*, float*, Index); \
  template void f<double>(double*, double*, Index);
FASTNN_INSTANTIATE(softplus_in_place)
FASTNN_INSTANTIATE(silu_in_place)
FASTNN_INSTANTIATE(gelu_in_place)
#undef FASTNN_INSTANTIATE

}  // namespace fastnn
