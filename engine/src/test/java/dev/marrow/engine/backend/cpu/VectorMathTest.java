package dev.marrow.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    for (float x : new float[] {0f, -0f, 1e-30f, -1e-30f, 1e-8f, 0.625f, -0.625f, 88.3f, -87.3f}) {
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

  /** exp, sigmoid and tanh of every input, in that order. */
  static float[] evaluate(float[] x) {
    float[] out = new float[3 * x.length];
    for (int i = 0; i < x.length; i += S.length()) {
      FloatVector v = FloatVector.fromArray(S, x, i);
      VectorMath.exp(v).intoArray(out, i);
      VectorMath.sigmoid(v).intoArray(out, x.length + i);
      VectorMath.tanh(v).intoArray(out, 2 * x.length + i);
    }
    return out;
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

  /** Prints the results, for the interpreter-only child JVM. */
  public static void main(String[] args) {
    System.out.print(Arrays.toString(evaluate(inputs())));
  }

  @Test
  void givesTheSameBitsInTheInterpreterAsCompiled() throws IOException, InterruptedException {
    float[] x = inputs();
    float[] compiled = null;
    for (int round = 0; round < 2_000; round++) { // enough calls for C2 to compile the kernels
      compiled = evaluate(x);
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
    assertEquals(Arrays.toString(compiled), interpreted);
  }
}
