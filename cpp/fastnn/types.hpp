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
template <class S>
using VectorMap = Eigen::Map<Vector<S>>;
template <class S>
using ConstVectorMap = Eigen::Map<const Vector<S>>;

}  // namespace fastnn
