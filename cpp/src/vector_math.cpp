#include "fastnn/vector_math.hpp"

#include <cmath>
#include <cstring>

#ifdef FASTNN_HAVE_SLEEF
#include <immintrin.h>
#include <sleef.h>
#endif

namespace fastnn {

namespace {

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

// One instruction set's vector types and its SLEEF functions, Sleef_<f><d|f><lanes>_u10<isa>.
#define FASTNN_SLEEF_FUNCTIONS(VD, VF, DOUBLES, FLOATS, ISA)            \
  using VecD = VD;                                                      \
  using VecF = VF;                                                      \
  VecD tanh_d(VecD v) { return Sleef_tanhd##DOUBLES##_u10##ISA(v); }    \
  VecF tanh_f(VecF v) { return Sleef_tanhf##FLOATS##_u10##ISA(v); }     \
  VecD exp_d(VecD v) { return Sleef_expd##DOUBLES##_u10##ISA(v); }      \
  VecF exp_f(VecF v) { return Sleef_expf##FLOATS##_u10##ISA(v); }

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
};
template <>
struct Lanes<float> {
  static constexpr int width = int(sizeof(VecF) / sizeof(float));
  static void tanh(float* p) { on_vector<float, VecF, tanh_f>(p); }
  static void exp(float* p) { on_vector<float, VecF, exp_f>(p); }
};
#define FASTNN_QUOTE_2(x) #x
#define FASTNN_QUOTE(x) FASTNN_QUOTE_2(x)
constexpr const char* kLibrary = "SLEEF " FASTNN_QUOTE(SLEEF_VERSION_MAJOR) "." FASTNN_QUOTE(
    SLEEF_VERSION_MINOR) "." FASTNN_QUOTE(SLEEF_VERSION_PATCHLEVEL) " (" FASTNN_SLEEF_ISA ")";
#else
template <class S>
struct Lanes {
  static constexpr int width = 1;
  static void tanh(S* p) { *p = std::tanh(*p); }
  static void exp(S* p) { *p = std::exp(*p); }
};
constexpr const char* kLibrary = "C library (scalar)";
#endif

// block(p) on x[0, n), Lanes<S>::width values at a time; the tail through a zero-padded copy.
template <class S, class Block>
void for_each_vector(S* x, Index n, Block block) {
  constexpr int W = Lanes<S>::width;
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
  for_each_vector(x, n, Lanes<S>::tanh);
}

template <class S>
void exp_in_place(S* x, Index n) {
  for_each_vector(x, n, Lanes<S>::exp);
}

template <class S>
void logistic_in_place(S* x, Index n) {
  // 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, with e = exp(-|x|) <= 1: the quotient
  // never divides by a large rounded sum, which keeps the error within 2 ulp.
  for_each_vector(x, n, [](S* p) {
    constexpr int W = Lanes<S>::width;
    S e[W];
    for (int k = 0; k < W; ++k) e[k] = -std::abs(p[k]);
    Lanes<S>::exp(e);
    for (int k = 0; k < W; ++k) p[k] = (p[k] >= S(0) ? S(1) : e[k]) / (S(1) + e[k]);
  });
}

const char* vector_math_library() { return kLibrary; }

template void tanh_in_place<float>(float*, Index);
template void tanh_in_place<double>(double*, Index);
template void exp_in_place<float>(float*, Index);
template void exp_in_place<double>(double*, Index);
template void logistic_in_place<float>(float*, Index);
template void logistic_in_place<double>(double*, Index);

}  // namespace fastnn
