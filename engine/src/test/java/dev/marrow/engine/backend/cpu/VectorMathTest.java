package dev.marrow.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.reference.ReferenceMath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** VectorMath: accurate, and bit-identical in the interpreter and in JIT-compiled code. */
class VectorMathTest {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  static float[] inputs() {
    List<Float> xs = new ArrayList<>();
    for (float x = -100f; x <= 100f; x += 0.0137f) {
      xs.add(x);
    }
    for (float x :
        new float[] {
          0f, -0f, 1e-30f, -1e-30f, 1e-8f, 1e-5f, 0.625f, -0.625f, 88.3f, -87.3f, 41.42136f, 100f
        }) {
      xs.add(x);
    }
    while (xs.size() % S.length() != 0) {
      xs.add(0.5f);
    }
    float[] a = new float[xs.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = xs.get(i);
    }
    return a;
  }

  /** log1p's argument for input x: |x|/100, in [0, 1] as softplus gives it. */
  static float log1pArgument(float x) {
    return Math.abs(x) / 100;
  }

  /** exp, sigmoid, tanh, expm1, erf, Φ and log1p (of {@link #log1pArgument}) of every input. */
  static float[] evaluate(float[] x) {
    int n = x.length;
    float[] out = new float[7 * n];
    for (int i = 0; i < n; i += S.length()) {
      FloatVector v = FloatVector.fromArray(S, x, i);
      VectorMath.exp(v).intoArray(out, i);
      VectorMath.sigmoid(v).intoArray(out, n + i);
      VectorMath.tanh(v).intoArray(out, 2 * n + i);
      VectorMath.expm1(v).intoArray(out, 3 * n + i);
      VectorMath.log1p(v.abs().div(100f)).intoArray(out, 6 * n + i);
    }
    float[] tmp = new float[n]; // n is a whole number of vectors
    VectorMath.erf(x, tmp, n);
    System.arraycopy(tmp, 0, out, 4 * n, n);
    VectorMath.normalCdf(x, tmp, n);
    System.arraycopy(tmp, 0, out, 5 * n, n);
    return out;
  }

  /** The activation kernels built on them, forward and backward, over x with tails. */
  static float[] evaluateActivations(float[] x) {
    List<Activation> kinds =
        List.of(
            Activation.LEAKY_RELU,
            Activation.ELU,
            Activation.GELU,
            Activation.SILU,
            Activation.SOFTPLUS);
    int n = x.length - 3; // not a multiple of the vector length: a masked tail
    float[] out = new float[2 * kinds.size() * n];
    float[] dy = new float[n];
    Arrays.fill(dy, 1f);
    for (int k = 0; k < kinds.size(); k++) {
      Activation kind = kinds.get(k);
      float[] y = new float[n];
      ActivationKernels.forward(kind, x, 0, y, 0, n, null, 0, 0.25f);
      System.arraycopy(y, 0, out, 2 * k * n, n);
      float[] dx = new float[n];
      ActivationKernels.backward(kind, kind.backwardNeedsInput() ? x : y, dy, dx, 0, n);
      System.arraycopy(dx, 0, out, (2 * k + 1) * n, n);
    }
    return out;
  }

  /**
   * The largest error in ulp of the expected value, the index where it is, and the largest absolute
   * error, over a range.
   */
  private record Error(double ulp, int at, double absolute) {
    static Error of(double[] expected, float[] actual, int from) {
      double ulp = 0, abs = 0;
      int at = 0;
      for (int i = 0; i < expected.length; i++) {
        double d = Math.abs(actual[from + i] - expected[i]);
        if (d / Math.ulp((float) expected[i]) > ulp) {
          ulp = d / Math.ulp((float) expected[i]);
          at = i;
        }
        abs = Math.max(abs, d);
      }
      return new Error(ulp, at, abs);
    }
  }

  // The build runs the kernel tests again with -Dmarrow.cpu.vectorBits=256 and 128 (the AVX2
  // kind's tiles, ARM NEON's width): those runs must really be on such vectors, with 4-row tiles.
  @Test
  void theVectorWidthFollowsTheProperty() {
    String bits = System.getProperty("marrow.cpu.vectorBits", "").strip();
    if (bits.matches("\\d+")) { // not "preferred" or empty
      assertEquals(Integer.parseInt(bits) / Float.SIZE, Vectors.LANES);
    }
    assertEquals(Vectors.LANES >= 16 ? 8 : 4, Gemm.MR);
  }

  @Test
  void agreesWithJavaMathToWithinTwoOrThreeUlp() {
    float[] x = inputs();
    float[] y = evaluate(x);
    for (int i = 0; i < x.length; i++) {
      double e = Math.exp(Math.max(-87.3f, Math.min(88.3f, x[i]))); // the clamp, in float
      assertEquals(e, y[i], 2 * Math.ulp((float) e), "exp(" + x[i] + ")");
      double s = 1 / (1 + Math.exp(-x[i]));
      assertEquals(s, y[x.length + i], 3 * Math.ulp((float) s) + 1e-38, "sigmoid(" + x[i] + ")");
      double t = Math.tanh(x[i]);
      assertEquals(t, y[2 * x.length + i], 3 * Math.ulp((float) t), "tanh(" + x[i] + ")");
    }
  }

  @Test
  void erfAndTheNormalCdfAgreeWithDoublePrecision() {
    float[] x = inputs();
    int n = x.length;
    float[] y = evaluate(x);
    double[] erf = new double[n], cdf = new double[n];
    for (int i = 0; i < n; i++) {
      erf[i] = ReferenceMath.erf(x[i]);
      cdf[i] = ReferenceMath.normalCdf(x[i]);
    }
    // Φ is flushed to 0 below 1e-37 (x < −13): there it is compared absolutely, then skipped.
    for (int i = 0; i < n; i++) {
      if (cdf[i] < 1e-37) {
        assertEquals(0, y[5 * n + i], 1e-37, "Φ(" + x[i] + ")");
        cdf[i] = y[5 * n + i];
      }
    }
    Error erfError = Error.of(erf, y, 4 * n), cdfError = Error.of(cdf, y, 5 * n);
    System.out.printf(
        "erf: %.2f ulp, %.2e absolute; Φ: %.2f ulp, %.2e absolute%n",
        erfError.ulp(), erfError.absolute(), cdfError.ulp(), cdfError.absolute());
    assertTrue(
        erfError.absolute() <= 1.1e-7 && erfError.ulp() <= 2,
        "erf " + erfError + " at " + x[erfError.at()]);
    assertTrue(
        cdfError.absolute() <= 7e-8 && cdfError.ulp() <= 7,
        "Φ " + cdfError + " at " + x[cdfError.at()]);
  }

  @Test
  void log1pAndExpm1AgreeWithJavaMath() {
    float[] x = inputs();
    int n = x.length;
    float[] y = evaluate(x);
    double[] log1p = new double[n], expm1 = new double[n];
    for (int i = 0; i < n; i++) {
      log1p[i] = Math.log1p(log1pArgument(x[i]));
      expm1[i] = Math.expm1(Math.min(x[i], 88.3f));
    }
    Error log1pError = Error.of(log1p, y, 6 * n);
    Error expm1Error = Error.of(expm1, y, 3 * n);
    System.out.printf("log1p: %.2f ulp; expm1: %.2f ulp%n", log1pError.ulp(), expm1Error.ulp());
    assertTrue(
        log1pError.ulp() <= 1.5,
        "log1p " + log1pError + " at " + log1pArgument(x[log1pError.at()]));
    assertTrue(expm1Error.ulp() <= 3, "expm1 " + expm1Error + " at " + x[expm1Error.at()]);
  }

  private static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }

  /** Prints the results, for the interpreter-only child JVM. */
  public static void main(String[] args) {
    float[] x = inputs();
    System.out.print(Arrays.toString(evaluate(x)));
    System.out.print(Arrays.toString(evaluateActivations(x)));
  }

  @Test
  void givesTheSameBitsInTheInterpreterAsCompiled() throws IOException, InterruptedException {
    float[] x = inputs();
    String compiled = null;
    for (int round = 0; round < 2_000; round++) { // enough calls for C2 to compile the kernels
      compiled = Arrays.toString(evaluate(x)) + Arrays.toString(evaluateActivations(x));
    }
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xint",
                "--add-modules",
                "jdk.incubator.vector",
                "-cp",
                System.getProperty("java.class.path"),
                VectorMathTest.class.getName())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String interpreted = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor() == 0, "child JVM failed");
    assertEquals(compiled, interpreted);
  }
}
