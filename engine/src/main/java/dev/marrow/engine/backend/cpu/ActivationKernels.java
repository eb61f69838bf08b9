package dev.marrow.engine.backend.cpu;

import dev.marrow.engine.backend.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The loops of the activations beyond relu: forward, with a bias added first when fused into the
 * dense and convolution epilogue ({@link ElementwiseKernels#biasActivate}), and backward for
 * leaky_relu, elu, gelu, silu and softplus (sigmoid's and tanh's, from y, are in
 * ElementwiseKernels). One small loop per activation and direction, for the reason given at
 * biasActivate: a loop switching on the kind outgrows what C2 inlines, and its vectors are then
 * allocated. gelu and softplus are too long even for one loop each: they run as {@link
 * VectorMath.Pass}es over blocks of {@link #BLOCK} elements in per-thread scratch (see VectorMath's
 * erf for why). Tails run the same vector code under a mask or, in the passes, whole vectors of
 * which only the first elements are kept, so every element gets the same rounding wherever it
 * falls.
 */
final class ActivationKernels {
  private ActivationKernels() {}

  private static final VectorSpecies<Float> S = Vectors.FLOAT;
  private static final int L = Vectors.LANES;
  private static final float INV_SQRT_2PI = 0.398942280401432678f;

  /** Above it softplus(x) is x in float, and PyTorch returns x itself. */
  private static final float SOFTPLUS_THRESHOLD = 20f;

  /**
   * Elements per block of the multi-pass activations: a whole number of vectors of any width, 2
   * KiB, so that passes re-read from L1.
   */
  private static final int BLOCK = 512;

  /** The calling thread's two blocks: the passes run unmasked over whole vectors in them. */
  private record Scratch(float[] a, float[] b) {}

  private static final ThreadLocal<Scratch> SCRATCH =
      ThreadLocal.withInitial(() -> new Scratch(new float[BLOCK], new float[BLOCK]));

  /**
   * {@code dst[dstOff + i] = f(src[srcOff + i] + b)} for i &lt; len, b being {@code bias[biasOff +
   * i]} or, when bias is null, the scalar {@code constant}. dst may be src (same offsets).
   */
  static void forward(
      Activation kind,
      float[] src,
      int srcOff,
      float[] dst,
      int dstOff,
      int len,
      float[] bias,
      int biasOff,
      float constant) {
    switch (kind) {
      case SIGMOID -> sigmoid(src, srcOff, dst, dstOff, len, bias, biasOff, constant);
      case TANH -> tanh(src, srcOff, dst, dstOff, len, bias, biasOff, constant);
      case LEAKY_RELU -> leakyRelu(src, srcOff, dst, dstOff, len, bias, biasOff, constant);
      case ELU -> elu(src, srcOff, dst, dstOff, len, bias, biasOff, constant);
      case GELU -> gelu(src, srcOff, dst, dstOff, len, bias, biasOff, constant);
      case SILU -> silu(src, srcOff, dst, dstOff, len, bias, biasOff, constant);
      case SOFTPLUS -> softplus(src, srcOff, dst, dstOff, len, bias, biasOff, constant);
      default -> throw new IllegalArgumentException(kind + " has its own loop");
    }
  }

  /**
   * {@code dx[i] = dy[i]·f'(x[i])} for i in [from, to). {@code in} is the forward output y for
   * leaky_relu and elu, the forward input x for the others ({@link Activation#backwardNeedsInput}).
   * dx may be dy.
   */
  static void backward(Activation kind, float[] in, float[] dy, float[] dx, int from, int to) {
    switch (kind) {
      case LEAKY_RELU -> leakyReluBackward(in, dy, dx, from, to);
      case ELU -> eluBackward(in, dy, dx, from, to);
      case GELU -> geluBackward(in, dy, dx, from, to);
      case SILU -> siluBackward(in, dy, dx, from, to);
      case SOFTPLUS -> softplusBackward(in, dy, dx, from, to);
      default -> throw new IllegalArgumentException(kind + " has its own loop");
    }
  }

  /** src + b at element i, under the tail mask. */
  private static FloatVector input(
      float[] src, int srcOff, int i, VectorMask<Float> m, float[] bias, int biasOff, float c) {
    FloatVector b =
        bias == null ? FloatVector.broadcast(S, c) : FloatVector.fromArray(S, bias, biasOff + i, m);
    return FloatVector.fromArray(S, src, srcOff + i, m).add(b);
  }

  // ---- forward: src (len) + bias (len) or a constant → dst (len) ------------------------------

  // One loop each: a loop that chose between them merged two vectors at a branch, which C2 boxes.
  private static void sigmoid(
      float[] src, int srcOff, float[] dst, int dstOff, int len, float[] bias, int bOff, float c) {
    for (int i = 0; i < len; i += L) {
      VectorMask<Float> m = S.indexInRange(i, len);
      VectorMath.sigmoid(input(src, srcOff, i, m, bias, bOff, c)).intoArray(dst, dstOff + i, m);
    }
  }

  private static void tanh(
      float[] src, int srcOff, float[] dst, int dstOff, int len, float[] bias, int bOff, float c) {
    for (int i = 0; i < len; i += L) {
      VectorMask<Float> m = S.indexInRange(i, len);
      VectorMath.tanh(input(src, srcOff, i, m, bias, bOff, c)).intoArray(dst, dstOff + i, m);
    }
  }

  private static void leakyRelu(
      float[] src, int srcOff, float[] dst, int dstOff, int len, float[] bias, int bOff, float c) {
    for (int i = 0; i < len; i += L) {
      VectorMask<Float> m = S.indexInRange(i, len);
      FloatVector x = input(src, srcOff, i, m, bias, bOff, c);
      x.max(x.mul(Activation.LEAKY_RELU_SLOPE)).intoArray(dst, dstOff + i, m); // slope < 1
    }
  }

  private static void elu(
      float[] src, int srcOff, float[] dst, int dstOff, int len, float[] bias, int bOff, float c) {
    for (int i = 0; i < len; i += L) {
      VectorMask<Float> m = S.indexInRange(i, len);
      FloatVector x = input(src, srcOff, i, m, bias, bOff, c);
      x.blend(VectorMath.expm1(x), x.compare(VectorOperators.LE, 0f)).intoArray(dst, dstOff + i, m);
    }
  }

  // Per block: z = src + b into scratch a, Φ(z) into b, b = z·Φ(z), copied out.
  private static void gelu(
      float[] src, int srcOff, float[] dst, int dstOff, int len, float[] bias, int bOff, float c) {
    Scratch t = SCRATCH.get();
    for (int from = 0; from < len; from += BLOCK) {
      int n = Math.min(BLOCK, len - from);
      addBias(src, srcOff + from, t.a, n, bias, bias == null ? 0 : bOff + from, c);
      VectorMath.run(GELU, t.a, t.b, n);
      System.arraycopy(t.b, 0, dst, dstOff + from, n);
    }
  }

  // z[i] = src[srcOff + i] + (bias[bOff + i] or c) for i < n
  private static void addBias(
      float[] src, int srcOff, float[] z, int n, float[] bias, int bOff, float c) {
    for (int i = 0; i < n; i += L) {
      VectorMask<Float> m = S.indexInRange(i, n);
      input(src, srcOff, i, m, bias, bOff, c).intoArray(z, i, m);
    }
  }

  private static final VectorMath.Pass[] GELU =
      VectorMath.normalCdfThen(ActivationKernels::multiply);

  // b[i] *= a[i] over whole vectors covering n
  private static void multiply(float[] a, float[] b, int n) {
    for (int i = 0; i < n; i += L) {
      FloatVector.fromArray(S, a, i).mul(FloatVector.fromArray(S, b, i)).intoArray(b, i);
    }
  }

  private static void silu(
      float[] src, int srcOff, float[] dst, int dstOff, int len, float[] bias, int bOff, float c) {
    for (int i = 0; i < len; i += L) {
      VectorMask<Float> m = S.indexInRange(i, len);
      FloatVector x = input(src, srcOff, i, m, bias, bOff, c);
      x.mul(VectorMath.sigmoid(x)).intoArray(dst, dstOff + i, m);
    }
  }

  // max(z, 0) + log1p(e^−|z|), z = src + b: the exponent is never positive, so nothing
  // overflows. Per block: z into scratch a, e^−|z| into b, b = softplus(z), copied out.
  private static void softplus(
      float[] src, int srcOff, float[] dst, int dstOff, int len, float[] bias, int bOff, float c) {
    Scratch t = SCRATCH.get();
    for (int from = 0; from < len; from += BLOCK) {
      int n = Math.min(BLOCK, len - from);
      addBias(src, srcOff + from, t.a, n, bias, bias == null ? 0 : bOff + from, c);
      VectorMath.run(SOFTPLUS, t.a, t.b, n);
      System.arraycopy(t.b, 0, dst, dstOff + from, n);
    }
  }

  private static final VectorMath.Pass[] SOFTPLUS = {
    ActivationKernels::expOfMinusAbs, ActivationKernels::log1p, ActivationKernels::softplusOf
  };

  // u = e^−|z| over whole vectors covering n
  private static void expOfMinusAbs(float[] z, float[] u, int n) {
    for (int i = 0; i < n; i += L) {
      VectorMath.exp(FloatVector.fromArray(S, z, i).abs().neg()).intoArray(u, i);
    }
  }

  // u = log1p(u)
  private static void log1p(float[] z, float[] u, int n) {
    for (int i = 0; i < n; i += L) {
      VectorMath.log1p(FloatVector.fromArray(S, u, i)).intoArray(u, i);
    }
  }

  // u = softplus(z) = max(z, 0) + u, z itself above the threshold
  private static void softplusOf(float[] z, float[] u, int n) {
    for (int i = 0; i < n; i += L) {
      FloatVector v = FloatVector.fromArray(S, z, i);
      FloatVector y = v.max(0f).add(FloatVector.fromArray(S, u, i));
      y.blend(v, v.compare(VectorOperators.GT, SOFTPLUS_THRESHOLD)).intoArray(u, i);
    }
  }

  // ---- backward: in, dy, dx over [from, to) -----------------------------------------------------

  // in is y: x > 0 exactly where y > 0, as the slope is positive
  private static void leakyReluBackward(float[] y, float[] dy, float[] dx, int from, int to) {
    for (int i = from; i < to; i += L) {
      VectorMask<Float> m = S.indexInRange(i, to);
      VectorMask<Float> negative =
          FloatVector.fromArray(S, y, i, m).compare(VectorOperators.LE, 0f);
      FloatVector g = FloatVector.fromArray(S, dy, i, m);
      g.blend(g.mul(Activation.LEAKY_RELU_SLOPE), negative).intoArray(dx, i, m);
    }
  }

  // in is y: f'(x) = e^x = y + 1 where x ≤ 0
  private static void eluBackward(float[] y, float[] dy, float[] dx, int from, int to) {
    for (int i = from; i < to; i += L) {
      VectorMask<Float> m = S.indexInRange(i, to);
      FloatVector v = FloatVector.fromArray(S, y, i, m);
      FloatVector d = v.add(1f).blend(1f, v.compare(VectorOperators.GT, 0f));
      FloatVector.fromArray(S, dy, i, m).mul(d).intoArray(dx, i, m);
    }
  }

  // in is x: f'(x) = Φ(x) + x·φ(x). Per block: x into scratch a, Φ(x) into b, b = f'(x), then
  // dx = dy·b.
  private static void geluBackward(float[] x, float[] dy, float[] dx, int from, int to) {
    Scratch t = SCRATCH.get();
    for (int off = from; off < to; off += BLOCK) {
      int n = Math.min(BLOCK, to - off);
      System.arraycopy(x, off, t.a, 0, n);
      VectorMath.run(GELU_DERIVATIVE, t.a, t.b, n);
      for (int i = 0; i < n; i += L) {
        VectorMask<Float> m = S.indexInRange(i, n);
        FloatVector.fromArray(S, dy, off + i, m)
            .mul(FloatVector.fromArray(S, t.b, i))
            .intoArray(dx, off + i, m);
      }
    }
  }

  private static final VectorMath.Pass[] GELU_DERIVATIVE =
      VectorMath.normalCdfThen(ActivationKernels::geluDerivative);

  // phi = Φ(x) + x·φ(x) over whole vectors covering n, phi holding Φ(x)
  private static void geluDerivative(float[] x, float[] phi, int n) {
    for (int i = 0; i < n; i += L) {
      FloatVector v = FloatVector.fromArray(S, x, i);
      FloatVector pdf = VectorMath.exp(v.mul(v).mul(-0.5f)).mul(INV_SQRT_2PI);
      v.fma(pdf, FloatVector.fromArray(S, phi, i)).intoArray(phi, i);
    }
  }

  // in is x: f'(x) = s·(1 + x·(1 − s)) with s = sigmoid(x)
  private static void siluBackward(float[] x, float[] dy, float[] dx, int from, int to) {
    for (int i = from; i < to; i += L) {
      VectorMask<Float> m = S.indexInRange(i, to);
      FloatVector v = FloatVector.fromArray(S, x, i, m);
      FloatVector s = VectorMath.sigmoid(v);
      FloatVector d = s.mul(v.fma(s.neg().add(1f), s.broadcast(1f)));
      FloatVector.fromArray(S, dy, i, m).mul(d).intoArray(dx, i, m);
    }
  }

  // in is x: f'(x) = sigmoid(x), which is 1 in float above the threshold anyway
  private static void softplusBackward(float[] x, float[] dy, float[] dx, int from, int to) {
    for (int i = from; i < to; i += L) {
      VectorMask<Float> m = S.indexInRange(i, to);
      FloatVector d = VectorMath.sigmoid(FloatVector.fromArray(S, x, i, m));
      FloatVector.fromArray(S, dy, i, m).mul(d).intoArray(dx, i, m);
    }
  }
}
