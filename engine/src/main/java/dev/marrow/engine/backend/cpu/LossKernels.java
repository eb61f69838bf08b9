package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.PointwiseLoss;

/**
 * Row-wise kernels over class scores: softmax, the fused softmax-cross-entropy, accuracy counts.
 * Rows are short (10 classes for MNIST), so these are scalar loops; per step they cost far less
 * than one GEMM and are not worth a thread hand-off. Sums run in double for stable losses.
 */
final class LossKernels {
  private static final float PROBABILITY_EPSILON = 1e-7f; // Keras' backend.epsilon()

  // x, y are rows×cols
  void softmax(float[] x, float[] y, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      int o = r * cols;
      float max = x[o];
      for (int c = 1; c < cols; c++) {
        max = Math.max(max, x[o + c]);
      }
      double sum = 0;
      for (int c = 0; c < cols; c++) {
        float e = (float) Math.exp(x[o + c] - max);
        y[o + c] = e;
        sum += e;
      }
      float inv = (float) (1 / sum);
      for (int c = 0; c < cols; c++) {
        y[o + c] *= inv;
      }
    }
  }

  void softmaxBackward(float[] y, float[] dy, float[] dx, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      int o = r * cols;
      double dot = 0;
      for (int c = 0; c < cols; c++) {
        dot += (double) dy[o + c] * y[o + c];
      }
      for (int c = 0; c < cols; c++) {
        dx[o + c] = (float) (y[o + c] * (dy[o + c] - dot));
      }
    }
  }

  /**
   * Softmax cross-entropy on logits against integer labels (when labels != null) or target
   * distributions. Returns the summed loss; writes gradScale · (softmax · Σt − t) into dLogits.
   */
  float softmaxCrossEntropy(
      float[] logits,
      float[] labels,
      float[] targets,
      float[] dLogits,
      int rows,
      int cols,
      float gradScale) {
    double loss = 0;
    for (int r = 0; r < rows; r++) {
      int o = r * cols;
      int label = labels == null ? -1 : checkedLabel(labels[r], r, cols);
      float max = logits[o];
      for (int c = 1; c < cols; c++) {
        max = Math.max(max, logits[o + c]);
      }
      double sum = 0;
      for (int c = 0; c < cols; c++) {
        sum += Math.exp(logits[o + c] - max);
      }
      double logSum = Math.log(sum) + max;
      double targetSum = 1;
      if (labels == null) {
        targetSum = 0;
        for (int c = 0; c < cols; c++) {
          targetSum += targets[o + c];
          loss += targets[o + c] * (logSum - logits[o + c]);
        }
      } else {
        loss += logSum - logits[o + label];
      }
      if (dLogits != null) {
        for (int c = 0; c < cols; c++) {
          double t = labels == null ? targets[o + c] : (c == label ? 1 : 0);
          double p = Math.exp(logits[o + c] - logSum);
          dLogits[o + c] = (float) (gradScale * (p * targetSum - t));
        }
      }
    }
    return (float) loss;
  }

  float crossEntropyOfProbabilities(
      float[] probs, float[] targets, float[] dProbs, int n, float gradScale) {
    double loss = 0;
    for (int i = 0; i < n; i++) {
      float p = probs[i];
      float clipped = Math.min(Math.max(p, PROBABILITY_EPSILON), 1 - PROBABILITY_EPSILON);
      loss -= targets[i] * Math.log(clipped);
      if (dProbs != null) {
        // The clip passes no gradient outside [eps, 1 − eps], as in Keras/TensorFlow.
        boolean clippedAway = p < PROBABILITY_EPSILON || p > 1 - PROBABILITY_EPSILON;
        dProbs[i] = clippedAway ? 0f : -gradScale * targets[i] / clipped;
      }
    }
    return (float) loss;
  }

  float squaredError(float[] pred, float[] target, float[] dPred, int n, float gradScale) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      float d = pred[i] - target[i];
      sum += (double) d * d;
      if (dPred != null) {
        dPred[i] = gradScale * 2 * d;
      }
    }
    return (float) sum;
  }

  // pred, target, dPred are n floats; returns the summed loss (see PointwiseLoss for the terms).
  float pointwise(
      PointwiseLoss kind,
      float delta,
      float[] pred,
      float[] target,
      float[] dPred,
      int n,
      float gradScale) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      float x = pred[i], t = target[i];
      float term, grad;
      switch (kind) {
        case ABSOLUTE -> {
          float d = x - t;
          term = Math.abs(d);
          grad = Math.signum(d);
        }
        case HUBER -> {
          float d = x - t, a = Math.abs(d);
          term = a <= delta ? 0.5f * d * d : delta * (a - 0.5f * delta);
          grad = Math.max(-delta, Math.min(delta, d));
        }
        case BINARY_CROSSENTROPY_LOGITS -> {
          // log(1 + e^-|z|) never overflows; σ(z) from the same exponential.
          float e = (float) Math.exp(-Math.abs(x));
          term = Math.max(x, 0f) - x * t + (float) Math.log1p(e);
          float sigmoid = x >= 0 ? 1f / (1f + e) : e / (1f + e);
          grad = sigmoid - t;
        }
        case BINARY_CROSSENTROPY_PROBABILITIES -> {
          float p = Math.max(PROBABILITY_EPSILON, Math.min(1 - PROBABILITY_EPSILON, x));
          term = (float) -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
          boolean clippedAway = x < PROBABILITY_EPSILON || x > 1 - PROBABILITY_EPSILON;
          grad = clippedAway ? 0f : (p - t) / (p * (1 - p));
        }
        default -> throw new AssertionError(kind);
      }
      sum += term;
      if (dPred != null) {
        dPred[i] = gradScale * grad;
      }
    }
    return (float) sum;
  }

  int countCorrect(float[] scores, float[] labels, float[] targets, int rows, int cols) {
    int correct = 0;
    for (int r = 0; r < rows; r++) {
      int expected =
          labels != null ? checkedLabel(labels[r], r, cols) : argmax(targets, r * cols, cols);
      correct += argmax(scores, r * cols, cols) == expected ? 1 : 0;
    }
    return correct;
  }

  static int argmax(float[] x, int offset, int n) {
    int best = 0;
    for (int c = 1; c < n; c++) {
      if (x[offset + c] > x[offset + best]) {
        best = c;
      }
    }
    return best;
  }

  private static int checkedLabel(float raw, int row, int cols) {
    int label = (int) raw;
    if (label != raw || label < 0 || label >= cols) {
      throw new IllegalArgumentException(
          "label " + raw + " at row " + row + " is not a class index in [0, " + cols + ")");
    }
    return label;
  }
}
