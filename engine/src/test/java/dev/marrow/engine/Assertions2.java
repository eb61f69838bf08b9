package dev.marrow.engine;

import static org.junit.jupiter.api.Assertions.fail;

import dev.marrow.engine.tensor.Tensor;
import java.util.SplittableRandom;

/** Shared helpers for numeric tests: random tensors and element-wise closeness with context. */
public final class Assertions2 {
  private Assertions2() {}

  public static Tensor random(SplittableRandom r, int... dims) {
    Tensor t = Tensor.zeros(dims);
    for (int i = 0; i < t.size(); i++) {
      t.array()[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return t;
  }

  /**
   * |expected − actual| ≤ atol + rtol·|expected| for every element, else fails naming the index.
   */
  public static void assertClose(
      float[] expected, float[] actual, double rtol, double atol, String what) {
    if (expected.length != actual.length) {
      fail(what + ": length " + actual.length + ", expected " + expected.length);
    }
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i], a = actual[i];
      if (!(Math.abs(e - a) <= atol + rtol * Math.abs(e))
          && !(Double.isNaN(e) && Double.isNaN(a))) {
        fail(
            String.format(
                "%s: element %d is %.9g, expected %.9g (rtol %g, atol %g)",
                what, i, a, e, rtol, atol));
      }
    }
  }

  public static void assertClose(
      Tensor expected, Tensor actual, double rtol, double atol, String what) {
    assertClose(expected.array(), actual.array(), rtol, atol, what);
  }
}
