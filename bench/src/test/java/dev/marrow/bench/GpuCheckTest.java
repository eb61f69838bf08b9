package dev.marrow.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The GPU check's verdict on two loss curves: the tolerances where the class comment puts them. */
class GpuCheckTest {
  /** A falling running loss over 469 batches (one epoch of MNIST at batch 128). */
  private static double[] curve() {
    double[] c = new double[469];
    for (int i = 0; i < c.length; i++) {
      c[i] = 0.2 + 2.1 * Math.exp(-i / 60.0);
    }
    return c;
  }

  private static double[] scaledAt(double[] c, int batch, double factor) {
    double[] d = Arrays.copyOf(c, c.length);
    d[batch - 1] *= factor;
    return d;
  }

  @Test
  void identicalCurvesPass() {
    GpuCheck.Comparison cmp = GpuCheck.compare(curve(), curve());
    assertEquals(0, cmp.worst());
    assertTrue(cmp.failures().isEmpty(), cmp.failures().toString());
  }

  @Test
  void earlyBatchesMustAgreeToRoundingLevel() {
    double[] c = curve();
    assertTrue(GpuCheck.compare(c, scaledAt(c, 5, 1 + 5e-4)).failures().isEmpty());
    GpuCheck.Comparison cmp = GpuCheck.compare(c, scaledAt(c, 5, 1 + 2e-3));
    assertEquals(1, cmp.failures().size(), cmp.failures().toString());
    assertEquals(5, cmp.worstBatch());
  }

  @Test
  void laterBatchesMayDriftAsRoundingDoesButNotAsAnotherTrainingWould() {
    double[] c = curve();
    // The drift rounding alone caused on the CPU (1e-3) passes; another seed's gap (2.4e-2) fails.
    assertTrue(GpuCheck.compare(c, scaledAt(c, 300, 1 + 3e-3)).failures().isEmpty());
    GpuCheck.Comparison cmp = GpuCheck.compare(c, scaledAt(c, 300, 1 - 2.4e-2));
    assertEquals(1, cmp.failures().size());
    assertEquals(300, cmp.worstBatch());
  }

  @Test
  void nanAndAFlatLossFail() {
    double[] c = curve();
    assertEquals(1, GpuCheck.compare(c, scaledAt(c, 100, Double.NaN)).failures().size());
    double[] flat = new double[469];
    Arrays.fill(flat, 2.3);
    assertTrue(
        GpuCheck.compare(flat, flat).failures().getFirst().startsWith("the loss did not fall"));
  }
}
