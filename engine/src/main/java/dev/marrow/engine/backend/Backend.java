package dev.marrow.engine.backend;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;

/**
 * The kernels a model is compiled onto. Coarse and shaped like cuBLAS/cuDNN so that each call maps
 * 1:1 onto a library call on the GPU. All tensors are float32 and row-major; "rows × cols" means a
 * batch of rows, each a vector over the last axis.
 *
 * <p>A kernel touches elements {@code [0, size())} of each tensor and no more: a plan's buffer may
 * be the first part of a longer block of memory it shares ({@link Tensor#bindTo}), so {@code
 * array().length} can exceed {@code size()}.
 *
 * <p>Every implementation is checked against {@code ReferenceBackend} by one conformance suite.
 */
public interface Backend extends AutoCloseable {

  /** Short name for logs and metrics.json ("cpu", "cuda:0"). */
  String name();

  /** Number of threads the backend uses for one kernel. */
  int threads();

  /** A zero-filled tensor on this backend's device. */
  Tensor allocate(Shape shape);

  // ---- BLAS ---------------------------------------------------------------------------------

  /**
   * Row-major {@code C = alpha · op(A) · op(B) + beta · C} where op(A) is m×k and op(B) is k×n. A
   * transposed operand is read transposed in place (lda/ldb are the row strides of A and B as
   * stored). With beta = 0, C is overwritten (its old contents, even NaN, are ignored).
   */
  void gemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      Tensor a,
      int aOffset,
      int lda,
      Tensor b,
      int bOffset,
      int ldb,
      float beta,
      Tensor c,
      int cOffset,
      int ldc);

  /** {@code y[r, c] += bias[c]} for a rows × cols tensor y. */
  void biasAdd(Tensor y, Tensor bias, int rows, int cols);

  /**
   * {@code y[r, c] = f(y[r, c] + bias[c])} in place, bias optional, f element-wise (not softmax): a
   * dense layer's epilogue. Backends may fuse it into one pass; the result is the same as {@link
   * #biasAdd} followed by {@link #activationForward}.
   */
  default void biasActivation(Tensor y, Tensor bias, Activation kind, int rows, int cols) {
    if (bias != null) {
      biasAdd(y, bias, rows, cols);
    }
    if (kind != Activation.LINEAR) {
      activationForward(kind, y, y);
    }
  }

  /** {@code dBias[c] = beta · dBias[c] + Σ_r dy[r, c]}. */
  void biasGrad(Tensor dy, Tensor dBias, int rows, int cols, float beta);

  /** dst = src, element for element (same size). */
  void copy(Tensor src, Tensor dst);

  /** {@code y += alpha · x} over all elements. */
  void axpy(float alpha, Tensor x, Tensor y);

  /**
   * {@code y = a + b}, element-wise (same sizes; y may be a or b): the forward of {@code Add}. By
   * default a copy and an axpy, which give the same floats; a backend may do it in one pass.
   */
  default void add(Tensor a, Tensor b, Tensor y) {
    if (y == b) {
      axpy(1f, a, y);
    } else {
      if (y != a) {
        copy(a, y);
      }
      axpy(1f, b, y);
    }
  }

  /**
   * {@code y = max(0, a + b)}, element-wise (same sizes; y may be a or b): an {@code Add} whose
   * only reader is a ReLU (the end of every residual block), run as one step by a plan. By default
   * {@link #add} and the ReLU in place, which give the same floats; a backend may do it in one
   * pass.
   */
  default void addRelu(Tensor a, Tensor b, Tensor y) {
    add(a, b, y);
    activationForward(Activation.RELU, y, y);
  }

  /** Σ x² over all elements (for L2 penalties). */
  float sumOfSquares(Tensor x);

  /** {@code x *= alpha} over all elements; alpha = 0 writes zeros. */
  void scale(Tensor x, float alpha);

  /**
   * Strided block copy, the data movement of concatenation, slicing and padding: for every block
   * {@code b < blocks} and {@code i < blockLength}, {@code dst[dstOffset + b·dstStride + i] (+)=
   * src[srcOffset + b·srcStride + i]}, adding when {@code accumulate}, else overwriting. Blocks
   * never overlap within dst.
   */
  void copyBlocks(
      Tensor src,
      int srcOffset,
      int srcStride,
      Tensor dst,
      int dstOffset,
      int dstStride,
      int blocks,
      int blockLength,
      boolean accumulate);

  /**
   * Element-wise product {@code out (+)= a · b} over all elements (same sizes), adding when {@code
   * accumulate}; out may be a or b when not accumulating.
   */
  void multiply(Tensor a, Tensor b, Tensor out, boolean accumulate);

  // ---- convolution (NCHW; filters (f, c, kh, kw); cross-correlation like cuDNN/PyTorch) -----

  /** y = conv(x, w) (+ bias per output channel when bias is not null). */
  void conv2dForward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y);

  /**
   * y = f(conv(x, w) + bias), f element-wise (not softmax). Backends may apply bias and f while
   * each image's output is still in cache; the result is the same as the unfused calls.
   */
  default void conv2dForward(
      ConvGeometry g, Tensor x, Tensor w, Tensor bias, Activation kind, Tensor y) {
    conv2dForward(g, x, w, bias, y);
    if (kind != Activation.LINEAR) {
      activationForward(kind, y, y);
    }
  }

  /** dx = the gradient of the input (overwritten). */
  void conv2dBackwardData(ConvGeometry g, Tensor w, Tensor dy, Tensor dx);

  /** dw = beta·dw + the gradient of the filters. */
  void conv2dBackwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, float beta);

  /** db[f] = beta·db[f] + Σ over batch and pixels of dy. */
  void conv2dBackwardBias(ConvGeometry g, Tensor dy, Tensor db, float beta);

  // ---- pooling (geometry with f = c and the window as kh × kw) ------------------------------

  void poolForward(PoolMode mode, ConvGeometry g, Tensor x, Tensor y);

  /**
   * dx (overwritten) from dy. Max pooling routes each output's gradient to one maximum of its
   * window in x: the CPU backends take the first in row-major order, as PyTorch's CPU kernels do;
   * which of several equal maxima cuDNN picks is not documented.
   */
  void poolBackward(PoolMode mode, ConvGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx);

  // ---- batch normalisation: x is (n, c, spatial) with per-channel statistics ----------------

  /**
   * Training-mode batch norm: normalises x with the batch's mean and biased variance, saves mean
   * and 1/sqrt(var + eps) in {@code bn}'s saved statistics for backward, and updates its running
   * statistics as cuDNN and PyTorch do: running = (1 − factor)·running + factor·batch, with the
   * unbiased variance.
   */
  void batchNormForwardTraining(BatchNormArgs bn, Tensor x, Tensor y);

  /** Inference-mode batch norm with the running statistics. */
  void batchNormForwardInference(BatchNormArgs bn, Tensor x, Tensor y);

  /**
   * Gradients of input (overwritten), gamma and beta (overwritten) of training-mode batch norm,
   * from the statistics the forward saved; {@code bn}'s epsilon is the forward's (cuDNN asks for
   * the same value in both directions).
   */
  void batchNormBackward(
      BatchNormArgs bn, Tensor x, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta);

  /**
   * {@link #batchNormForwardTraining} with a ReLU after it, y = max(0, bn(x)): a batch norm whose
   * only reader is a ReLU (conv → BN → ReLU), run as one step by a plan. By default the two passes;
   * a backend may write y in its normalising pass (the CPU tests x·scale + offset, scale =
   * γ·savedInvStd and offset = β − savedMean·scale in float, which its {@link
   * #batchNormReluBackward} recomputes from the saved statistics).
   */
  default void batchNormReluForwardTraining(BatchNormArgs bn, Tensor x, Tensor y) {
    batchNormForwardTraining(bn, x, y);
    activationForward(Activation.RELU, y, y);
  }

  /** {@link #batchNormForwardInference} with a ReLU after it. */
  default void batchNormReluForwardInference(BatchNormArgs bn, Tensor x, Tensor y) {
    batchNormForwardInference(bn, x, y);
    activationForward(Activation.RELU, y, y);
  }

  /**
   * The backward of {@link #batchNormReluForwardTraining}: dy is the gradient of its output y, and
   * may be overwritten. By default the ReLU's backward in place on dy, then batch norm's; a backend
   * may instead recompute the ReLU's test from x and the saved statistics and read neither y nor a
   * masked copy of dy.
   */
  default void batchNormReluBackward(
      BatchNormArgs bn, Tensor x, Tensor y, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta) {
    activationBackward(Activation.RELU, null, y, dy, dy);
    batchNormBackward(bn, x, dy, dx, dGamma, dBeta);
  }

  // ---- activations --------------------------------------------------------------------------

  /**
   * y = f(x), element-wise; x and y may be the same tensor. SOFTMAX is not element-wise: use
   * softmaxForward.
   */
  void activationForward(Activation kind, Tensor x, Tensor y);

  /**
   * dx = dy · f'(x); dx may alias dy. Computed from the forward output y, except for the kinds
   * whose {@link Activation#backwardNeedsInput} is true (gelu, silu, softplus), which read the
   * forward input x instead. The one not read may be null.
   */
  void activationBackward(Activation kind, Tensor x, Tensor y, Tensor dy, Tensor dx);

  /** Row-wise, numerically stable softmax of a rows × cols tensor. */
  void softmaxForward(Tensor x, Tensor y, int rows, int cols);

  /** dx = y ⊙ (dy − Σ_c dy·y), row-wise. */
  void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols);

  // ---- losses -------------------------------------------------------------------------------

  /**
   * Fused softmax + cross-entropy on logits (rows × cols) against integer class labels stored as
   * floats. Returns the summed loss over the rows; writes {@code dLogits = gradScale · (softmax −
   * onehot)} when dLogits is not null.
   */
  float softmaxCrossEntropy(
      Tensor logits, Tensor labels, Tensor dLogits, int rows, int cols, float gradScale);

  /**
   * Fused softmax + cross-entropy against target distributions (one-hot or soft), rows × cols.
   * Returns the summed loss; writes {@code dLogits = gradScale · (softmax · Σt − t)} when not null.
   */
  float softmaxCrossEntropyDense(
      Tensor logits, Tensor targets, Tensor dLogits, int rows, int cols, float gradScale);

  /**
   * Cross-entropy of probabilities (already softmaxed, clipped to [eps, 1 − eps] as Keras does)
   * against target distributions. Returns the summed loss; dProbs = gradScale · (−t / p).
   */
  float crossEntropyOfProbabilities(
      Tensor probs, Tensor targets, Tensor dProbs, int rows, int cols, float gradScale);

  /**
   * Σ (prediction − target)² over all elements; writes {@code dPred = gradScale · 2 · (pred −
   * target)} when dPred is not null.
   */
  float squaredError(Tensor predictions, Tensor targets, Tensor dPredictions, float gradScale);

  /**
   * Σ over all elements of a {@link PointwiseLoss} between predictions and targets (same size);
   * writes {@code dPred = gradScale · d(term)/d(prediction)} when dPred is not null. {@code delta}
   * is Huber's δ (ignored by the others).
   */
  float pointwiseLoss(
      PointwiseLoss kind,
      float delta,
      Tensor predictions,
      Tensor targets,
      Tensor dPredictions,
      float gradScale);

  /** Number of rows whose argmax equals the integer label (labels stored as floats). */
  int countCorrect(Tensor scores, Tensor labels, int rows, int cols);

  /** Number of rows whose argmax equals the argmax of the target distribution. */
  int countCorrectDense(Tensor scores, Tensor targets, int rows, int cols);

  /** Row-wise argmax into {@code out[0 .. rows)}. */
  void argmax(Tensor scores, int rows, int cols, int[] out);

  // ---- regularisation -----------------------------------------------------------------------

  /**
   * Inverted dropout: keeps each element with probability 1 − rate, scaling kept ones by 1/(1 −
   * rate). The mask (0 or the scale) is a pure function of (seed, element index), so it does not
   * depend on how the work is split over threads.
   */
  void dropoutForward(Tensor x, Tensor y, Tensor mask, float rate, long seed);

  /** dx = dy ⊙ mask. */
  void dropoutBackward(Tensor dy, Tensor mask, Tensor dx);

  // ---- optimizers ---------------------------------------------------------------------------

  /**
   * One SGD step as PyTorch defines it: g = grad + weightDecay·param; v = momentum·v + g; step =
   * nesterov ? g + momentum·v : v (or g when momentum is 0); param −= lr·step.
   */
  void sgdUpdate(
      Tensor param,
      Tensor grad,
      Tensor velocity,
      float lr,
      float momentum,
      boolean nesterov,
      float weightDecay);

  /**
   * One Adam step (Kingma &amp; Ba, with bias correction for step t ≥ 1). weightDecay is added to
   * the gradient (L2, as torch.optim.Adam) unless decoupled, in which case param is decayed by
   * lr·weightDecay directly (AdamW).
   */
  void adamUpdate(
      Tensor param,
      Tensor grad,
      Tensor m,
      Tensor v,
      float lr,
      float beta1,
      float beta2,
      float epsilon,
      int step,
      float weightDecay,
      boolean decoupledWeightDecay);

  @Override
  default void close() {}

  /**
   * Throws unless every block of a {@link #copyBlocks} call lies inside {@code t}: checked up front
   * because a device kernel would write past the end silently, and a host loop would fail half-way
   * with part of dst already written.
   */
  static void requireBlocksInside(
      Tensor t, int offset, int stride, int blocks, int blockLength, String role) {
    if (blocks < 0 || blockLength < 0) {
      throw new IllegalArgumentException(
          "copyBlocks needs blocks ≥ 0 and blockLength ≥ 0, got " + blocks + ", " + blockLength);
    }
    if (blocks == 0 || blockLength == 0) {
      return;
    }
    long first = offset, last = offset + (long) (blocks - 1) * stride;
    if (Math.min(first, last) < 0 || Math.max(first, last) + blockLength > t.size()) {
      throw new IllegalArgumentException(
          String.format(
              "copyBlocks: %d blocks of %d at offset %d, stride %d, reach outside %s %s",
              blocks, blockLength, offset, stride, role, t.shape()));
    }
  }

  /** Throws unless the two tensors have the same number of elements. */
  static void requireSameSize(Tensor src, Tensor dst) {
    if (src.size() != dst.size()) {
      throw new IllegalArgumentException(
          "cannot copy " + src.shape() + " into " + dst.shape() + ": sizes differ");
    }
  }
}
