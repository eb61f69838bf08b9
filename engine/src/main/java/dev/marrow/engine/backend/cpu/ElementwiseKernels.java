package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.DropoutMask;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise kernels: bias, activations, dropout, axpy. Each runs vectors over the bulk and a
 * scalar tail, on one thread for small tensors and over the team for large ones.
 */
final class ElementwiseKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  /** Elements below which a pass stays on the calling thread. */
  private static final int PARALLEL_MIN = 1 << 15;

  private final ThreadTeam team;

  ElementwiseKernels(ThreadTeam team) {
    this.team = team;
  }

  private void forRange(int n, ThreadTeam.RangeBody body) {
    team.forRange(n, PARALLEL_MIN, body);
  }

  // y is rows×cols, bias is (cols)
  void biasAdd(float[] y, float[] bias, int rows, int cols) {
    int bound = S.loopBound(cols);
    ThreadTeam.RangeBody body = (r0, r1) -> {
      for (int r = r0; r < r1; r++) {
        int o = r * cols, c = 0;
        for (; c < bound; c += L) {
          FloatVector.fromArray(S, y, o + c).add(FloatVector.fromArray(S, bias, c))
              .intoArray(y, o + c);
        }
        for (; c < cols; c++) {
          y[o + c] += bias[c];
        }
      }
    };
    if ((long) rows * cols < PARALLEL_MIN) {
      body.run(0, rows);
    } else {
      team.parallelFor(rows, 1, body);
    }
  }

  // dy is rows×cols; out[c] = beta·out[c] + Σ_r dy[r, c]. Columns are split over threads, rows
  // are summed in order, so the result does not depend on the thread count.
  void columnSums(float[] dy, float[] out, int rows, int cols, float beta) {
    ThreadTeam.RangeBody body = (c0, c1) -> {
      int c = c0;
      for (; c + L <= c1; c += L) {
        FloatVector acc = beta == 0 ? FloatVector.zero(S)
            : FloatVector.fromArray(S, out, c).mul(beta);
        for (int r = 0; r < rows; r++) {
          acc = acc.add(FloatVector.fromArray(S, dy, r * cols + c));
        }
        acc.intoArray(out, c);
      }
      for (; c < c1; c++) {
        float acc = beta == 0 ? 0 : beta * out[c];
        for (int r = 0; r < rows; r++) {
          acc += dy[r * cols + c];
        }
        out[c] = acc;
      }
    };
    if ((long) rows * cols < PARALLEL_MIN || cols < 2 * L) {
      body.run(0, cols);
    } else {
      // Chunks of whole vectors, so every thread runs the vector path.
      int vectors = (cols + L - 1) / L;
      team.parallelFor(vectors, 1, (v0, v1) -> body.run(v0 * L, Math.min(cols, v1 * L)));
    }
  }

  /** Σ x[off .. off+n), vector lanes summed in a fixed order. */
  static float sum(float[] x, int off, int n) {
    FloatVector acc = FloatVector.zero(S);
    int i = 0;
    for (int bound = S.loopBound(n); i < bound; i += L) {
      acc = acc.add(FloatVector.fromArray(S, x, off + i));
    }
    // Not reduceLanes(ADD): its order may differ between interpreted and JIT-compiled code, which
    // made training results depend on when the JIT got to this method.
    float s = 0;
    for (int lane = 0; lane < L; lane++) {
      s += acc.lane(lane);
    }
    for (; i < n; i++) {
      s += x[off + i];
    }
    return s;
  }

  void axpy(float alpha, float[] x, float[] y, int n) {
    forRange(n, (from, to) -> {
      int i = from;
      for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
        FloatVector.fromArray(S, x, i).mul(alpha).add(FloatVector.fromArray(S, y, i))
            .intoArray(y, i);
      }
      for (; i < to; i++) {
        y[i] += alpha * x[i];
      }
    });
  }

  void scale(float[] x, int n, float alpha) {
    if (alpha == 0) {
      java.util.Arrays.fill(x, 0, n, 0f);
      return;
    }
    forRange(n, (from, to) -> {
      int i = from;
      for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
        FloatVector.fromArray(S, x, i).mul(alpha).intoArray(x, i);
      }
      for (; i < to; i++) {
        x[i] *= alpha;
      }
    });
  }

  void multiply(float[] a, float[] b, float[] out, int n) {
    forRange(n, (from, to) -> {
      int i = from;
      for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
        FloatVector.fromArray(S, a, i).mul(FloatVector.fromArray(S, b, i)).intoArray(out, i);
      }
      for (; i < to; i++) {
        out[i] = a[i] * b[i];
      }
    });
  }

  void activationForward(Activation kind, float[] x, float[] y, int n) {
    switch (kind) {
      case LINEAR -> {
        if (x != y) {
          System.arraycopy(x, 0, y, 0, n);
        }
      }
      case RELU -> forRange(n, (from, to) -> {
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
          FloatVector.fromArray(S, x, i).max(0f).intoArray(y, i);
        }
        for (; i < to; i++) {
          y[i] = Math.max(x[i], 0f);
        }
      });
      // Tails run the same vector code under a mask, so every element gets the same rounding.
      case SIGMOID -> forRange(n, (from, to) -> {
        for (int i = from; i < to; i += L) {
          VectorMask<Float> m = S.indexInRange(i, to);
          VectorMath.sigmoid(FloatVector.fromArray(S, x, i, m)).intoArray(y, i, m);
        }
      });
      case TANH -> forRange(n, (from, to) -> {
        for (int i = from; i < to; i += L) {
          VectorMask<Float> m = S.indexInRange(i, to);
          VectorMath.tanh(FloatVector.fromArray(S, x, i, m)).intoArray(y, i, m);
        }
      });
      case SOFTMAX -> throw new IllegalArgumentException("softmax is row-wise: use softmaxForward");
    }
  }

  // dx = dy · f'(x), from the output y
  void activationBackward(Activation kind, float[] y, float[] dy, float[] dx, int n) {
    switch (kind) {
      case LINEAR -> {
        if (dy != dx) {
          System.arraycopy(dy, 0, dx, 0, n);
        }
      }
      case RELU -> forRange(n, (from, to) -> {
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
          FloatVector out = FloatVector.fromArray(S, y, i);
          FloatVector.fromArray(S, dy, i).blend(0f, out.compare(VectorOperators.LE, 0f))
              .intoArray(dx, i);
        }
        for (; i < to; i++) {
          dx[i] = y[i] > 0 ? dy[i] : 0f;
        }
      });
      case SIGMOID -> forRange(n, (from, to) -> {
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
          FloatVector out = FloatVector.fromArray(S, y, i);
          FloatVector.fromArray(S, dy, i).mul(out).mul(out.neg().add(1f)).intoArray(dx, i);
        }
        for (; i < to; i++) {
          dx[i] = dy[i] * y[i] * (1 - y[i]);
        }
      });
      case TANH -> forRange(n, (from, to) -> {
        int i = from;
        for (int bound = from + S.loopBound(to - from); i < bound; i += L) {
          FloatVector out = FloatVector.fromArray(S, y, i);
          FloatVector.fromArray(S, dy, i).mul(out.mul(out).neg().add(1f)).intoArray(dx, i);
        }
        for (; i < to; i++) {
          dx[i] = dy[i] * (1 - y[i] * y[i]);
        }
      });
      case SOFTMAX -> throw new IllegalArgumentException("softmax is row-wise: use softmaxBackward");
    }
  }

  void dropoutForward(float[] x, float[] y, float[] mask, int n, float rate, long seed) {
    float keepScale = 1 / (1 - rate);
    forRange(n, (from, to) -> {
      for (int i = from; i < to; i++) {
        float m = DropoutMask.uniform(seed, i) >= rate ? keepScale : 0f;
        mask[i] = m;
        y[i] = x[i] * m;
      }
    });
  }
}
