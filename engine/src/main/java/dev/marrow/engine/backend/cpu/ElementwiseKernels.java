package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.DropoutMask;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise kernels: bias, activations, dropout, axpy, products. Each runs vectors over the bulk
 * and a scalar tail (or the same vector code under a mask), on one thread for small tensors and
 * over the team for large ones.
 *
 * <p>A pass allocates nothing: its arguments go into the calling thread's {@link Pass}, whose loop
 * bodies are built once, instead of into a capturing lambda per call.
 */
final class ElementwiseKernels {
  private static final VectorSpecies<Float> S = Vectors.FLOAT;
  private static final int L = Vectors.LANES;

  /** Elements below which a pass stays on the calling thread. */
  private static final int PARALLEL_MIN = 1 << 15;

  private static final ThreadLocal<Pass> PASSES = ThreadLocal.withInitial(Pass::new);

  private final ThreadTeam team;

  ElementwiseKernels(ThreadTeam team) {
    this.team = team;
  }

  // y is rows×cols, bias is (cols): the fused pass with no activation.
  void biasAdd(float[] y, float[] bias, int rows, int cols) {
    biasActivation(y, bias, Activation.LINEAR, rows, cols);
  }

  // y[r, c] = f(y[r, c] + bias[c]), bias optional: one pass instead of two.
  void biasActivation(float[] y, float[] bias, Activation kind, int rows, int cols) {
    Pass p = PASSES.get().with(bias, null, y, 0, 0, rows, cols);
    p.kind = kind;
    if ((long) rows * cols < PARALLEL_MIN) {
      p.biasActivationRows(0, rows);
    } else {
      team.parallelFor(rows, 1, p.biasActivationRows);
    }
    p.release();
  }

  /**
   * {@code y[off .. off + len) = f(y + b)}, b being {@code bias[biasOff ..]} element by element or,
   * when bias is null, the scalar {@code constant}: the epilogue of dense and convolution layers.
   * Element for element the same arithmetic as a bias pass then an activation pass. One small loop
   * per activation: a single loop switching on the kind grew past what C2 inlines, and its vectors
   * were then allocated (52 KiB per MLP training step).
   */
  static void biasActivate(
      Activation kind, float[] y, int off, int len, float[] bias, int biasOff, float constant) {
    switch (kind) {
      case RELU -> biasRelu(y, off, len, bias, biasOff, constant);
      case LINEAR -> biasOnly(y, off, len, bias, biasOff, constant);
      case SIGMOID, TANH, LEAKY_RELU, ELU, GELU, SILU, SOFTPLUS ->
          ActivationKernels.forward(kind, y, off, y, off, len, bias, biasOff, constant);
      case SOFTMAX -> throw new IllegalArgumentException("softmax is row-wise");
    }
  }

  private static void biasRelu(
      float[] y, int off, int len, float[] bias, int biasOff, float constant) {
    int i = 0;
    for (int bound = Vectors.loopBound(len); i < bound; i += L) {
      FloatVector b =
          bias == null
              ? FloatVector.broadcast(S, constant)
              : FloatVector.fromArray(S, bias, biasOff + i);
      FloatVector.fromArray(S, y, off + i).add(b).max(0f).intoArray(y, off + i);
    }
    for (; i < len; i++) {
      y[off + i] = Math.max(y[off + i] + (bias == null ? constant : bias[biasOff + i]), 0f);
    }
  }

  private static void biasOnly(
      float[] y, int off, int len, float[] bias, int biasOff, float constant) {
    int i = 0;
    for (int bound = Vectors.loopBound(len); i < bound; i += L) {
      FloatVector b =
          bias == null
              ? FloatVector.broadcast(S, constant)
              : FloatVector.fromArray(S, bias, biasOff + i);
      FloatVector.fromArray(S, y, off + i).add(b).intoArray(y, off + i);
    }
    for (; i < len; i++) {
      y[off + i] += bias == null ? constant : bias[biasOff + i];
    }
  }

  // dy is rows×cols; out[c] = beta·out[c] + Σ_r dy[r, c]. Columns are split over threads, rows
  // are summed in order, so the result does not depend on the thread count.
  void columnSums(float[] dy, float[] out, int rows, int cols, float beta) {
    Pass p = PASSES.get().with(dy, null, out, 0, beta, rows, cols);
    if ((long) rows * cols < PARALLEL_MIN || cols < 2 * L) {
      p.columnSumRange(0, cols);
    } else {
      // Chunks of whole vectors, so every thread runs the vector path.
      team.parallelFor((cols + L - 1) / L, 1, p.columnSumVectors);
    }
    p.release();
  }

  // y = x, in parts over the team: each core copies what it most likely wrote last (resnet's Add
  // backward, one thread: 0.3 ms a copy of 6.4 MB alone, 0.5 ms beside the other core's caches)
  void copy(float[] x, float[] y, int n) {
    run(n, PASSES.get().with(x, null, y, 0, 0, 0, 0), Op.COPY);
  }

  void axpy(float alpha, float[] x, float[] y, int n) {
    run(n, PASSES.get().with(x, null, y, alpha, 0, 0, 0), Op.AXPY);
  }

  void scale(float[] x, int n, float alpha) {
    if (alpha == 0) {
      java.util.Arrays.fill(x, 0, n, 0f);
      return;
    }
    run(n, PASSES.get().with(x, null, x, alpha, 0, 0, 0), Op.SCALE);
  }

  // out = a + b, element-wise
  void add(float[] a, float[] b, float[] out, int n) {
    run(n, PASSES.get().with(a, b, out, 0, 0, 0, 0), Op.ADD);
  }

  // out = max(0, a + b), element-wise
  void addRelu(float[] a, float[] b, float[] out, int n) {
    run(n, PASSES.get().with(a, b, out, 0, 0, 0, 0), Op.ADD_RELU);
  }

  // out = a · b, element-wise; out may be a or b
  void multiply(float[] a, float[] b, float[] out, int n) {
    run(n, PASSES.get().with(a, b, out, 0, 0, 0, 0), Op.MULTIPLY);
  }

  // out += a · b, element-wise
  void multiplyAdd(float[] a, float[] b, float[] out, int n) {
    run(n, PASSES.get().with(a, b, out, 0, 0, 0, 0), Op.MULTIPLY_ADD);
  }

  void activationForward(Activation kind, float[] x, float[] y, int n) {
    switch (kind) {
      case LINEAR -> {
        if (x != y) {
          System.arraycopy(x, 0, y, 0, n);
        }
      }
      case RELU -> run(n, PASSES.get().with(x, null, y, 0, 0, 0, 0), Op.RELU);
      case SIGMOID, TANH, LEAKY_RELU, ELU, GELU, SILU, SOFTPLUS -> {
        Pass p = PASSES.get().with(x, null, y, 0, 0, 0, 0);
        p.kind = kind;
        run(n, p, Op.ACTIVATION);
      }
      case SOFTMAX -> throw new IllegalArgumentException("softmax is row-wise: use softmaxForward");
    }
  }

  // dx = dy · f'(x), from the output y, or from the input x where the kind needs it
  void activationBackward(Activation kind, float[] x, float[] y, float[] dy, float[] dx, int n) {
    switch (kind) {
      case LINEAR -> {
        if (dy != dx) {
          System.arraycopy(dy, 0, dx, 0, n);
        }
      }
      case RELU -> run(n, PASSES.get().with(y, dy, dx, 0, 0, 0, 0), Op.RELU_BACKWARD);
      case SIGMOID -> run(n, PASSES.get().with(y, dy, dx, 0, 0, 0, 0), Op.SIGMOID_BACKWARD);
      case TANH -> run(n, PASSES.get().with(y, dy, dx, 0, 0, 0, 0), Op.TANH_BACKWARD);
      case LEAKY_RELU, ELU, GELU, SILU, SOFTPLUS -> {
        Pass p = PASSES.get().with(kind.backwardNeedsInput() ? x : y, dy, dx, 0, 0, 0, 0);
        p.kind = kind;
        run(n, p, Op.ACTIVATION_BACKWARD);
      }
      case SOFTMAX ->
          throw new IllegalArgumentException("softmax is row-wise: use softmaxBackward");
    }
  }

  void dropoutForward(float[] x, float[] y, float[] mask, int n, float rate, long seed) {
    Pass p = PASSES.get().with(x, mask, y, rate, 0, 0, 0);
    p.seed = seed;
    run(n, p, Op.DROPOUT);
  }

  private void run(int n, Pass p, Op op) {
    p.op = op;
    team.forRange(n, PARALLEL_MIN, p.elementwise);
    p.release();
  }

  /** The element-wise operations of {@link Pass#elementwise}. */
  private enum Op {
    COPY,
    AXPY,
    SCALE,
    ADD,
    ADD_RELU,
    MULTIPLY,
    MULTIPLY_ADD,
    RELU,
    RELU_BACKWARD,
    SIGMOID_BACKWARD,
    TANH_BACKWARD,
    /** One of {@link ActivationKernels}' activations, {@link Pass#kind}. */
    ACTIVATION,
    ACTIVATION_BACKWARD,
    DROPOUT
  }

  /**
   * One thread's pass in flight: inputs {@code a} and {@code b}, output {@code out}, scalars, and
   * the loop bodies over them, built once. Team workers read the caller's fields, published by the
   * team's hand-off.
   */
  private static final class Pass {
    private float[] a;
    private float[] b;
    private float[] out;
    private float alpha;
    private float beta;
    private int rows;
    private int cols;
    private long seed;
    private Op op;
    private Activation kind;

    private final ThreadTeam.RangeBody elementwise = this::elementwise;
    private final ThreadTeam.RangeBody biasActivationRows = this::biasActivationRows;
    private final ThreadTeam.RangeBody columnSumVectors =
        (v0, v1) -> columnSumRange(v0 * L, Math.min(cols, v1 * L));

    Pass with(float[] a, float[] b, float[] out, float alpha, float beta, int rows, int cols) {
      this.a = a;
      this.b = b;
      this.out = out;
      this.alpha = alpha;
      this.beta = beta;
      this.rows = rows;
      this.cols = cols;
      return this;
    }

    /** Drops the references to the caller's arrays once the pass is done. */
    void release() {
      a = b = out = null;
    }

    void biasActivationRows(int r0, int r1) {
      for (int r = r0; r < r1; r++) {
        biasActivate(kind, out, r * cols, cols, a, 0, 0f);
      }
    }

    // out[c] = beta·out[c] + Σ_r a[r, c] for c in [c0, c1)
    void columnSumRange(int c0, int c1) {
      int c = c0;
      // The previous sums are blended in, not branched on: C2 boxes a vector that merges two
      // definitions at a branch, and once a caller had passed beta ≠ 0 every step allocated.
      VectorMask<Float> keep = FloatVector.broadcast(S, beta).compare(VectorOperators.NE, 0f);
      for (; c + L <= c1; c += L) {
        FloatVector acc = FloatVector.zero(S);
        for (int r = 0; r < rows; r++) {
          acc = acc.add(FloatVector.fromArray(S, a, r * cols + c));
        }
        acc.blend(acc.add(FloatVector.fromArray(S, out, c).mul(beta)), keep).intoArray(out, c);
      }
      for (; c < c1; c++) {
        float acc = 0;
        for (int r = 0; r < rows; r++) {
          acc += a[r * cols + c];
        }
        out[c] = beta == 0 ? acc : acc + beta * out[c];
      }
    }

    void elementwise(int from, int to) {
      switch (op) {
        case COPY -> System.arraycopy(a, from, out, from, to - from);
        case AXPY -> axpy(from, to);
        case SCALE -> scale(from, to);
        case ADD -> add(from, to);
        case ADD_RELU -> addRelu(from, to);
        case MULTIPLY -> multiply(from, to);
        case MULTIPLY_ADD -> multiplyAdd(from, to);
        case RELU -> relu(from, to);
        case RELU_BACKWARD -> reluBackward(from, to);
        case SIGMOID_BACKWARD -> sigmoidBackward(from, to);
        case TANH_BACKWARD -> tanhBackward(from, to);
        case ACTIVATION ->
            ActivationKernels.forward(kind, a, from, out, from, to - from, null, 0, 0);
        case ACTIVATION_BACKWARD -> ActivationKernels.backward(kind, a, b, out, from, to);
        case DROPOUT -> dropout(from, to);
      }
    }

    // out += alpha · a
    private void axpy(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector.fromArray(S, a, i)
            .mul(alpha)
            .add(FloatVector.fromArray(S, out, i))
            .intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] += alpha * a[i];
      }
    }

    private void scale(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector.fromArray(S, out, i).mul(alpha).intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] *= alpha;
      }
    }

    private void add(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector.fromArray(S, a, i).add(FloatVector.fromArray(S, b, i)).intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] = a[i] + b[i];
      }
    }

    // max(0, ·) as the ReLU pass computes it, so that fused and unfused give the same floats
    private void addRelu(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector.fromArray(S, a, i)
            .add(FloatVector.fromArray(S, b, i))
            .max(0f)
            .intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] = Math.max(a[i] + b[i], 0f);
      }
    }

    private void multiply(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector.fromArray(S, a, i).mul(FloatVector.fromArray(S, b, i)).intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] = a[i] * b[i];
      }
    }

    // A product then a sum, not an fma: the same rounding as the scalar tail and the reference.
    private void multiplyAdd(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector.fromArray(S, a, i)
            .mul(FloatVector.fromArray(S, b, i))
            .add(FloatVector.fromArray(S, out, i))
            .intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] += a[i] * b[i];
      }
    }

    private void relu(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector.fromArray(S, a, i).max(0f).intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] = Math.max(a[i], 0f);
      }
    }

    // a is the forward output y, b the upstream gradient dy
    private void reluBackward(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector y = FloatVector.fromArray(S, a, i);
        FloatVector.fromArray(S, b, i)
            .blend(0f, y.compare(VectorOperators.LE, 0f))
            .intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] = a[i] > 0 ? b[i] : 0f;
      }
    }

    private void sigmoidBackward(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector y = FloatVector.fromArray(S, a, i);
        FloatVector.fromArray(S, b, i).mul(y).mul(y.neg().add(1f)).intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] = b[i] * a[i] * (1 - a[i]);
      }
    }

    private void tanhBackward(int from, int to) {
      int i = from;
      for (int bound = from + Vectors.loopBound(to - from); i < bound; i += L) {
        FloatVector y = FloatVector.fromArray(S, a, i);
        FloatVector.fromArray(S, b, i).mul(y.mul(y).neg().add(1f)).intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] = b[i] * (1 - a[i] * a[i]);
      }
    }

    // a is x, b the mask, out y; alpha is the rate
    private void dropout(int from, int to) {
      float keepScale = 1 / (1 - alpha);
      for (int i = from; i < to; i++) {
        float m = DropoutMask.uniform(seed, i) >= alpha ? keepScale : 0f;
        b[i] = m;
        out[i] = a[i] * m;
      }
    }
  }
}
