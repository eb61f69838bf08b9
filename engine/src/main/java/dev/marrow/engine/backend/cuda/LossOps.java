package dev.marrow.engine.backend.cuda;

import dev.marrow.engine.backend.PointwiseLoss;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Losses and metrics: a kernels.cu kernel writes one non-negative term per row or element into
 * scratch memory, and cuBLAS' asum adds them up, so only one float crosses to the host.
 */
final class LossOps {
  private final CudaDevice device;
  private final GemmOps blas;

  LossOps(CudaDevice device, GemmOps blas) {
    this.device = device;
    this.blas = blas;
  }

  /** logits and dLogits (or null) are (rows, cols), labels (rows) class indices as floats. */
  float softmaxCrossEntropy(
      Tensor logits, Tensor labels, Tensor dLogits, int rows, int cols, float gradScale) {
    MemorySegment rowLoss = device.scratch(rows);
    device.kernels.launch(
        "softmax_xent_sparse",
        rows,
        new CudaKernels.Args()
            .ptr(device.in(logits))
            .ptr(device.in(labels))
            .ptr(dLogits == null ? null : device.out(dLogits))
            .ptr(rowLoss)
            .i(rows)
            .i(cols)
            .f(gradScale));
    float loss = blas.sum(rowLoss, rows);
    if (Float.isNaN(loss)) { // the kernel writes NaN for a label that is not a class index
      requireClassIndices(labels, rows, cols);
    }
    return loss;
  }

  private static void requireClassIndices(Tensor labels, int rows, int cols) {
    float[] l = labels.readArray();
    for (int r = 0; r < rows; r++) {
      if ((int) l[r] != l[r] || l[r] < 0 || l[r] >= cols) {
        throw new IllegalArgumentException(
            "label " + l[r] + " at row " + r + " is not a class index in [0, " + cols + ")");
      }
    }
  }

  /** logits, targets and dLogits (or null) are (rows, cols). */
  float softmaxCrossEntropyDense(
      Tensor logits, Tensor targets, Tensor dLogits, int rows, int cols, float gradScale) {
    MemorySegment rowLoss = device.scratch(rows);
    device.kernels.launch(
        "softmax_xent_dense",
        rows,
        new CudaKernels.Args()
            .ptr(device.in(logits))
            .ptr(device.in(targets))
            .ptr(dLogits == null ? null : device.out(dLogits))
            .ptr(rowLoss)
            .i(rows)
            .i(cols)
            .f(gradScale));
    return blas.sum(rowLoss, rows);
  }

  /** probs, targets and dProbs (or null) are (rows, cols). */
  float crossEntropyOfProbabilities(
      Tensor probs, Tensor targets, Tensor dProbs, int rows, int cols, float gradScale) {
    int n = rows * cols;
    MemorySegment terms = device.scratch(n);
    device.kernels.launch(
        "xent_probabilities",
        n,
        new CudaKernels.Args()
            .ptr(device.in(probs))
            .ptr(device.in(targets))
            .ptr(dProbs == null ? null : device.out(dProbs))
            .ptr(terms)
            .i(n)
            .f(gradScale));
    return blas.sum(terms, n);
  }

  /** predictions, targets and dPredictions (or null) have the same size. */
  float squaredError(Tensor predictions, Tensor targets, Tensor dPredictions, float gradScale) {
    return elementwise("squared_error", predictions, targets, dPredictions, args -> {}, gradScale);
  }

  /** Backend.pointwiseLoss: the same shapes; the kernel takes the kind's ordinal and Huber's δ. */
  float pointwise(
      PointwiseLoss kind,
      float delta,
      Tensor predictions,
      Tensor targets,
      Tensor dPredictions,
      float gradScale) {
    return elementwise(
        "pointwise_loss",
        predictions,
        targets,
        dPredictions,
        args -> args.i(kind.ordinal()).f(delta),
        gradScale);
  }

  // Kernels of the form (pred, targets, dpred or null, per-element loss, n, extra…, gradScale),
  // the per-element terms summed by cuBLAS.
  private float elementwise(
      String kernel,
      Tensor predictions,
      Tensor targets,
      Tensor dPredictions,
      java.util.function.Consumer<CudaKernels.Args> extra,
      float gradScale) {
    int n = predictions.size();
    MemorySegment terms = device.scratch(n);
    CudaKernels.Args args =
        new CudaKernels.Args()
            .ptr(device.in(predictions))
            .ptr(device.in(targets))
            .ptr(dPredictions == null ? null : device.out(dPredictions))
            .ptr(terms)
            .i(n);
    extra.accept(args);
    device.kernels.launch(kernel, n, args.f(gradScale));
    return blas.sum(terms, n);
  }

  /**
   * scores is (rows, cols); exactly one of labels (rows, class indices) and targets (rows, cols) is
   * not null.
   */
  int countCorrect(Tensor scores, Tensor labels, Tensor targets, int rows, int cols) {
    MemorySegment labelPtr = labels == null ? null : device.in(labels);
    MemorySegment targetPtr = targets == null ? null : device.in(targets);
    MemorySegment hits = device.scratch(rows);
    device.kernels.launch(
        "count_correct",
        rows,
        new CudaKernels.Args()
            .ptr(device.in(scores))
            .ptr(labelPtr)
            .ptr(targetPtr)
            .ptr(hits)
            .i(rows)
            .i(cols));
    return Math.round(blas.sum(hits, rows));
  }

  /** scores is (rows, cols); out[r] = the column of row r's largest score. */
  void argmax(Tensor scores, int rows, int cols, int[] out) {
    MemorySegment indices = device.scratch(rows);
    device.kernels.launch(
        "argmax_rows",
        rows,
        new CudaKernels.Args().ptr(device.in(scores)).ptr(indices).i(rows).i(cols));
    float[] host = device.download(indices, rows);
    for (int r = 0; r < rows; r++) {
      out[r] = (int) host[r];
    }
  }
}
