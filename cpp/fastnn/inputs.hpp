#pragma once
// The input matrix X: dense row-major (numpy C order) or sparse CSR (scipy's buffers), and the
// rows of it that one block of work reads.
#include <cstdint>

#include "fastnn/gemm.hpp"
#include "fastnn/types.hpp"

namespace fastnn {

// CSR view: row r holds data[indptr[r] .. indptr[r+1]) at columns indices[...].
template <class S>
struct CsrMatrix {
  const std::int64_t* indptr = nullptr;  // (rows + 1)
  const std::int32_t* indices = nullptr;  // (nnz)
  const S* data = nullptr;                // (nnz)
  Index rows = 0;
  Index cols = 0;

  // Throws std::invalid_argument unless the buffers form a valid CSR matrix with `nnz` entries
  // (indptr starts at 0, never decreases, ends at nnz; every column index is in [0, cols)).
  void validate(Index nnz) const;
};

// X for training or inference: dense row-major or CSR.
template <class S>
class FeatureMatrix {
 public:
  explicit FeatureMatrix(ConstMatrixMap<S> X) : dense_(X) {}
  explicit FeatureMatrix(const CsrMatrix<S>& X)
      : dense_(nullptr, X.rows, X.cols), csr_(X), sparse_(true) {}

  bool sparse() const { return sparse_; }
  const ConstMatrixMap<S>& dense() const { return dense_; }  // when !sparse()
  const CsrMatrix<S>& csr() const { return csr_; }           // when sparse()
  Index rows() const { return dense_.rows(); }
  Index cols() const { return dense_.cols(); }

 private:
  ConstMatrixMap<S> dense_;  // for CSR input: only its shape
  CsrMatrix<S> csr_;
  bool sparse_ = false;
};

// The n rows a block reads. Dense: the block's own (n, n_features) matrix (possibly gathered).
// Sparse: CSR rows `rows[i]` (or first + i when rows is null) -- read in place, never gathered.
template <class S>
struct InputRows {
  ConstMatrixMap<S> dense{nullptr, 0, 0};
  const CsrMatrix<S>* csr = nullptr;
  const std::int64_t* rows = nullptr;
  Index first = 0;
  Index n = 0;

  static InputRows dense_rows(const S* data, Index n, Index cols) {
    return {ConstMatrixMap<S>(data, n, cols), nullptr, nullptr, 0, n};
  }
  static InputRows csr_rows(const CsrMatrix<S>& X, const std::int64_t* rows, Index first,
                            Index n) {
    return {ConstMatrixMap<S>(nullptr, n, X.cols), &X, rows, first, n};
  }
  Index csr_row(Index i) const { return rows ? Index(rows[i]) : first + i; }
};

// True when no entry of X is NaN or ±inf.
template <class S>
bool all_finite(ConstMatrixMap<S> X);

// Z = X_rows · W          Z: (n, w)  W: (fan_in, w) -- column blocks allowed
template <class S>
void input_times(MatrixRef<S> Z, const InputRows<S>& X, const ConstMatrixRef<S>& W,
                 GemmWorkspace<S>& gemm);
// dW = X_rows[:, col0:col0 + h]ᵀ · dZ       dW: (h, w)  dZ: (n, w) -- column blocks allowed
template <class S>
void input_transpose_times(MatrixRef<S> dW, const InputRows<S>& X, const ConstMatrixRef<S>& dZ,
                           GemmWorkspace<S>& gemm, Index col0 = 0);

}  // namespace fastnn
