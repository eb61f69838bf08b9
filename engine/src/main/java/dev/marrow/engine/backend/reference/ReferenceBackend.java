package dev.marrow.engine.backend.reference;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.BatchNormArgs;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.DropoutMask;
import dev.marrow.engine.backend.PointwiseLoss;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;

/**
 * Plain scalar loops, written to be obviously right rather than fast: the control every other
 * backend is tested against, and the "scalar reference" column of the benchmarks. Sums are
 * accumulated in double so the reference is more accurate than what it checks.
 */
public final class ReferenceBackend implements Backend {
  /** Optimizer moments below this are stored as zero, as every backend does (see CpuBackend). */
  public static final float MOMENT_FLUSH = 1e-30f;

  @Override
  public String name() {
    return "reference";
  }

  @Override
  public int threads() {
    return 1;
  }

  @Override
  public Tensor allocate(Shape shape) {
    return Tensor.zeros(shape);
  }

  @Override
  public void gemm(
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
      int ldc) {
    float[] av = a.array(), bv = b.array(), cv = c.array();
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double sum = 0;
        for (int p = 0; p < k; p++) {
          float x = transA ? av[aOffset + p * lda + i] : av[aOffset + i * lda + p];
          float y = transB ? bv[bOffset + j * ldb + p] : bv[bOffset + p * ldb + j];
          sum += (double) x * y;
        }
        int ci = cOffset + i * ldc + j;
        cv[ci] = (float) (alpha * sum + (beta == 0 ? 0 : beta * cv[ci]));
      }
    }
  }

  @Override
  public void conv2dForward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
    ReferenceConv.forward(g, x, w, bias, y);
  }

  @Override
  public void conv2dBackwardData(ConvGeometry g, Tensor w, Tensor dy, Tensor dx) {
    ReferenceConv.backwardData(g, w, dy, dx);
  }

  @Override
  public void conv2dBackwardFilter(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, float beta) {
    ReferenceConv.backwardFilter(g, x, dy, dw, beta);
  }

  @Override
  public void conv2dBackwardBias(ConvGeometry g, Tensor dy, Tensor db, float beta) {
    ReferenceConv.backwardBias(g, dy, db, beta);
  }

  @Override
  public void poolForward(PoolMode mode, ConvGeometry g, Tensor x, Tensor y) {
    ReferenceConv.poolForward(mode, g, x, y);
  }

  @Override
  public void poolBackward(
      PoolMode mode, ConvGeometry g, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    ReferenceConv.poolBackward(mode, g, x, dy, dx);
  }

  @Override
  public void batchNormForwardTraining(BatchNormArgs bn, Tensor x, Tensor y) {
    ReferenceConv.batchNormTraining(bn, x, y);
  }

  @Override
  public void batchNormForwardInference(BatchNormArgs bn, Tensor x, Tensor y) {
    ReferenceConv.batchNormInference(bn, x, y);
  }

  @Override
  public void batchNormBackward(
      BatchNormArgs bn, Tensor x, Tensor dy, Tensor dx, Tensor dGamma, Tensor dBeta) {
    ReferenceConv.batchNormBackward(bn, x, dy, dx, dGamma, dBeta);
  }

  @Override
  public void biasAdd(Tensor y, Tensor bias, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        y.array()[r * cols + c] += bias.array()[c];
      }
    }
  }

  @Override
  public void biasGrad(Tensor dy, Tensor dBias, int rows, int cols, float beta) {
    for (int c = 0; c < cols; c++) {
      double sum = 0;
      for (int r = 0; r < rows; r++) {
        sum += dy.array()[r * cols + c];
      }
      dBias.array()[c] = (float) (sum + (beta == 0 ? 0 : beta * dBias.array()[c]));
    }
  }

  @Override
  public void copy(Tensor src, Tensor dst) {
    Backend.requireSameSize(src, dst);
    System.arraycopy(src.array(), 0, dst.array(), 0, dst.size());
  }

  @Override
  public void axpy(float alpha, Tensor x, Tensor y) {
    for (int i = 0; i < y.size(); i++) {
      y.array()[i] += alpha * x.array()[i];
    }
  }

  @Override
  public float sumOfSquares(Tensor x) {
    double s = 0;
    float[] a = x.array();
    for (int i = 0; i < x.size(); i++) {
      s += (double) a[i] * a[i];
    }
    return (float) s;
  }

  @Override
  public void scale(Tensor x, float alpha) {
    for (int i = 0; i < x.size(); i++) {
      x.array()[i] = alpha == 0 ? 0 : alpha * x.array()[i];
    }
  }

  @Override
  public void copyBlocks(
      Tensor src,
      int srcOffset,
      int srcStride,
      Tensor dst,
      int dstOffset,
      int dstStride,
      int blocks,
      int blockLength,
      boolean accumulate) {
    Backend.requireBlocksInside(src, srcOffset, srcStride, blocks, blockLength, "src");
    Backend.requireBlocksInside(dst, dstOffset, dstStride, blocks, blockLength, "dst");
    float[] s = src.array(), d = dst.array();
    for (int b = 0; b < blocks; b++) {
      int so = srcOffset + b * srcStride, dof = dstOffset + b * dstStride;
      if (accumulate) {
        for (int i = 0; i < blockLength; i++) {
          d[dof + i] += s[so + i];
        }
      } else {
        System.arraycopy(s, so, d, dof, blockLength);
      }
    }
  }

  @Override
  public void multiply(Tensor a, Tensor b, Tensor out, boolean accumulate) {
    Backend.requireSameSize(a, b);
    Backend.requireSameSize(a, out);
    float[] x = a.array(), y = b.array(), o = out.array();
    for (int i = 0; i < o.length && i < a.size(); i++) {
      o[i] = accumulate ? o[i] + x[i] * y[i] : x[i] * y[i];
    }
  }

  @Override
  public void activationForward(Activation kind, Tensor x, Tensor y) {
    for (int i = 0; i < x.size(); i++) {
      y.array()[i] = (float) activate(kind, x.array()[i]);
    }
  }

  private static double activate(Activation kind, double v) {
    return switch (kind) {
      case LINEAR -> v;
      case RELU -> Math.max(v, 0);
      case SIGMOID -> 1 / (1 + Math.exp(-v));
      case TANH -> Math.tanh(v);
      case LEAKY_RELU -> v > 0 ? v : Activation.LEAKY_RELU_SLOPE * v;
      case ELU -> v > 0 ? v : Math.expm1(v);
      case GELU -> v * ReferenceMath.normalCdf(v);
      case SILU -> v / (1 + Math.exp(-v));
      case SOFTPLUS -> v > 20 ? v : Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
      case SOFTMAX -> throw new IllegalArgumentException("softmax is row-wise: use softmaxForward");
    };
  }

  @Override
  public void activationBackward(Activation kind, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    for (int i = 0; i < dy.size(); i++) {
      double g = dy.array()[i];
      double d =
          kind.backwardNeedsInput()
              ? derivativeFromInput(kind, x.array()[i])
              : derivativeFromOutput(kind, y.array()[i]);
      dx.array()[i] = (float) (g * d);
    }
  }

  // f'(x) as a function of y = f(x)
  private static double derivativeFromOutput(Activation kind, double out) {
    return switch (kind) {
      case LINEAR -> 1;
      case RELU -> out > 0 ? 1 : 0;
      case SIGMOID -> out * (1 - out);
      case TANH -> 1 - out * out;
      case LEAKY_RELU -> out > 0 ? 1 : Activation.LEAKY_RELU_SLOPE;
      case ELU -> out > 0 ? 1 : out + 1; // e^x = y + 1 for x ≤ 0
      case GELU, SILU, SOFTPLUS -> throw new IllegalArgumentException(kind + " needs x");
      case SOFTMAX ->
          throw new IllegalArgumentException("softmax is row-wise: use softmaxBackward");
    };
  }

  // f'(x) for the activations whose derivative is not a function of y
  private static double derivativeFromInput(Activation kind, double v) {
    return switch (kind) {
      case GELU -> ReferenceMath.normalCdf(v) + v * ReferenceMath.normalPdf(v);
      case SILU -> {
        double s = 1 / (1 + Math.exp(-v));
        yield s * (1 + v * (1 - s));
      }
      case SOFTPLUS -> v > 20 ? 1 : 1 / (1 + Math.exp(-v));
      default -> throw new IllegalArgumentException(kind + " is differentiated from y");
    };
  }

  @Override
  public void softmaxForward(Tensor x, Tensor y, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < cols; c++) {
        max = Math.max(max, x.array()[r * cols + c]);
      }
      double sum = 0;
      for (int c = 0; c < cols; c++) {
        sum += Math.exp(x.array()[r * cols + c] - max);
      }
      for (int c = 0; c < cols; c++) {
        y.array()[r * cols + c] = (float) (Math.exp(x.array()[r * cols + c] - max) / sum);
      }
    }
  }

  @Override
  public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      double dot = 0;
      for (int c = 0; c < cols; c++) {
        dot += (double) dy.array()[r * cols + c] * y.array()[r * cols + c];
      }
      for (int c = 0; c < cols; c++) {
        int i = r * cols + c;
        dx.array()[i] = (float) (y.array()[i] * (dy.array()[i] - dot));
      }
    }
  }

  @Override
  public float softmaxCrossEntropy(
      Tensor logits, Tensor labels, Tensor dLogits, int rows, int cols, float gradScale) {
    Tensor targets = Tensor.zeros(rows, cols);
    for (int r = 0; r < rows; r++) {
      targets.array()[r * cols + label(labels, r, cols)] = 1;
    }
    return softmaxCrossEntropyDense(logits, targets, dLogits, rows, cols, gradScale);
  }

  @Override
  public float softmaxCrossEntropyDense(
      Tensor logits, Tensor targets, Tensor dLogits, int rows, int cols, float gradScale) {
    double loss = 0;
    for (int r = 0; r < rows; r++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < cols; c++) {
        max = Math.max(max, logits.array()[r * cols + c]);
      }
      double sum = 0, targetSum = 0;
      for (int c = 0; c < cols; c++) {
        sum += Math.exp(logits.array()[r * cols + c] - max);
        targetSum += targets.array()[r * cols + c];
      }
      double logSum = Math.log(sum) + max;
      for (int c = 0; c < cols; c++) {
        int i = r * cols + c;
        double t = targets.array()[i];
        loss += t * (logSum - logits.array()[i]);
        if (dLogits != null) {
          dLogits.array()[i] =
              (float) (gradScale * (Math.exp(logits.array()[i] - logSum) * targetSum - t));
        }
      }
    }
    return (float) loss;
  }

  @Override
  public float crossEntropyOfProbabilities(
      Tensor probs, Tensor targets, Tensor dProbs, int rows, int cols, float gradScale) {
    double eps = 1e-7, loss = 0;
    for (int i = 0; i < rows * cols; i++) {
      double p = probs.array()[i], t = targets.array()[i];
      double clipped = Math.min(Math.max(p, eps), 1 - eps);
      loss -= t * Math.log(clipped);
      if (dProbs != null) {
        // The clip's gradient is zero outside [eps, 1 − eps], as in Keras/TensorFlow.
        dProbs.array()[i] = (float) (p < eps || p > 1 - eps ? 0 : -gradScale * t / clipped);
      }
    }
    return (float) loss;
  }

  @Override
  public float squaredError(
      Tensor predictions, Tensor targets, Tensor dPredictions, float gradScale) {
    double sum = 0;
    for (int i = 0; i < predictions.size(); i++) {
      double d = (double) predictions.array()[i] - targets.array()[i];
      sum += d * d;
      if (dPredictions != null) {
        dPredictions.array()[i] = (float) (gradScale * 2 * d);
      }
    }
    return (float) sum;
  }

  @Override
  public float pointwiseLoss(
      PointwiseLoss kind,
      float delta,
      Tensor predictions,
      Tensor targets,
      Tensor dPredictions,
      float gradScale) {
    double eps = PointwiseLoss.PROBABILITY_EPSILON, sum = 0;
    float[] x = predictions.array(), t = targets.array();
    for (int i = 0; i < predictions.size(); i++) {
      double d = (double) x[i] - t[i], term, grad;
      switch (kind) {
        case ABSOLUTE -> {
          term = Math.abs(d);
          grad = Math.signum(d);
        }
        case HUBER -> {
          term = Math.abs(d) <= delta ? d * d / 2 : delta * (Math.abs(d) - delta / 2.0);
          grad = Math.abs(d) <= delta ? d : delta * Math.signum(d);
        }
        case BINARY_CROSSENTROPY_LOGITS -> {
          double sigmoid = 1 / (1 + Math.exp(-x[i]));
          term = -(t[i] * Math.log(sigmoid) + (1 - t[i]) * Math.log(1 - sigmoid));
          if (!Double.isFinite(term)) { // |z| large: the stable form
            term = Math.max(x[i], 0) - x[i] * t[i] + Math.log1p(Math.exp(-Math.abs(x[i])));
          }
          grad = sigmoid - t[i];
        }
        case BINARY_CROSSENTROPY_PROBABILITIES -> {
          double p = Math.max(eps, Math.min(1 - eps, x[i]));
          term = -(t[i] * Math.log(p) + (1 - t[i]) * Math.log(1 - p));
          grad = p == x[i] ? (p - t[i]) / (p * (1 - p)) : 0;
        }
        default -> throw new AssertionError(kind);
      }
      sum += term;
      if (dPredictions != null) {
        dPredictions.array()[i] = (float) (gradScale * grad);
      }
    }
    return (float) sum;
  }

  @Override
  public int countCorrect(Tensor scores, Tensor labels, int rows, int cols) {
    int[] predicted = new int[rows];
    argmax(scores, rows, cols, predicted);
    int correct = 0;
    for (int r = 0; r < rows; r++) {
      correct += predicted[r] == label(labels, r, cols) ? 1 : 0;
    }
    return correct;
  }

  @Override
  public int countCorrectDense(Tensor scores, Tensor targets, int rows, int cols) {
    int[] predicted = new int[rows], expected = new int[rows];
    argmax(scores, rows, cols, predicted);
    argmax(targets, rows, cols, expected);
    int correct = 0;
    for (int r = 0; r < rows; r++) {
      correct += predicted[r] == expected[r] ? 1 : 0;
    }
    return correct;
  }

  @Override
  public void argmax(Tensor scores, int rows, int cols, int[] out) {
    for (int r = 0; r < rows; r++) {
      int best = 0;
      for (int c = 1; c < cols; c++) {
        if (scores.array()[r * cols + c] > scores.array()[r * cols + best]) {
          best = c;
        }
      }
      out[r] = best;
    }
  }

  @Override
  public void dropoutForward(Tensor x, Tensor y, Tensor mask, float rate, long seed) {
    float keepScale = 1 / (1 - rate);
    for (int i = 0; i < x.size(); i++) {
      float m = DropoutMask.uniform(seed, i) >= rate ? keepScale : 0;
      mask.array()[i] = m;
      y.array()[i] = x.array()[i] * m;
    }
  }

  @Override
  public void dropoutBackward(Tensor dy, Tensor mask, Tensor dx) {
    for (int i = 0; i < dy.size(); i++) {
      dx.array()[i] = dy.array()[i] * mask.array()[i];
    }
  }

  @Override
  public void sgdUpdate(
      Tensor param,
      Tensor grad,
      Tensor velocity,
      float lr,
      float momentum,
      boolean nesterov,
      float weightDecay) {
    for (int i = 0; i < param.size(); i++) {
      float g = grad.array()[i] + weightDecay * param.array()[i];
      float step = g;
      if (momentum != 0) {
        float v = momentum * velocity.array()[i] + g;
        v = Math.abs(v) < MOMENT_FLUSH ? 0 : v; // as the CPU backend: no subnormal moments
        velocity.array()[i] = v;
        step = nesterov ? g + momentum * v : v;
      }
      param.array()[i] -= lr * step;
    }
  }

  @Override
  public void adamUpdate(
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
      boolean decoupledWeightDecay) {
    double correction1 = 1 - Math.pow(beta1, step), correction2 = 1 - Math.pow(beta2, step);
    for (int i = 0; i < param.size(); i++) {
      float p = param.array()[i];
      float g = grad.array()[i] + (decoupledWeightDecay ? 0 : weightDecay * p);
      if (decoupledWeightDecay) {
        p -= lr * weightDecay * p;
      }
      float mi = beta1 * m.array()[i] + (1 - beta1) * g;
      float vi = beta2 * v.array()[i] + (1 - beta2) * g * g;
      mi = Math.abs(mi) < MOMENT_FLUSH ? 0 : mi; // as the CPU backend: no subnormal moments
      vi = vi < MOMENT_FLUSH ? 0 : vi;
      m.array()[i] = mi;
      v.array()[i] = vi;
      double mHat = mi / correction1, vHat = vi / correction2;
      param.array()[i] = (float) (p - lr * mHat / (Math.sqrt(vHat) + epsilon));
    }
  }

  private static int label(Tensor labels, int row, int cols) {
    float raw = labels.array()[row];
    int label = (int) raw;
    if (label != raw || label < 0 || label >= cols) {
      throw new IllegalArgumentException(
          "label " + raw + " at row " + row + " is not a class index in [0, " + cols + ")");
    }
    return label;
  }
}
