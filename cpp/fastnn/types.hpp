#pragma once
// Eigen aliases shared by the core. Matrices are row-major, as numpy's C order: a numpy buffer is
// mapped, never copied.
#include <Eigen/Core>
#include <cstdint>

namespace fastnn {

using Index = Eigen::Index;

template <class S>
using RowMatrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;

template <class S>
using MatrixMap = Eigen::Map<RowMatrix<S>>;
template <class S>
using ConstMatrixMap = Eigen::Map<const RowMatrix<S>>;
// Row-major matrices with a row stride: a whole matrix or a block of its columns. Rows stay
// contiguous (unit inner stride), so row-wise loops vectorise as on plain maps.
template <class S>
using MatrixRef = Eigen::Ref<RowMatrix<S>, 0, Eigen::OuterStride<>>;
template <class S>
using ConstMatrixRef = Eigen::Ref<const RowMatrix<S>, 0, Eigen::OuterStride<>>;
template <class S>
using VectorMap = Eigen::Map<Vector<S>>;
template <class S>
using ConstVectorMap = Eigen::Map<const Vector<S>>;

}  // namespace fastnn
