package dev.marrow.engine.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.Losses;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Each metric against a direct computation, fed in several batches as an epoch feeds it. */
class MetricsTest {
  private static final Backend CPU = TestBackends.cpu(1);
  private static final Loss.TargetEncoding DENSE = Loss.TargetEncoding.ONE_HOT;

  @AfterAll
  static void close() {
    CPU.close();
  }

  private static double feed(Metric m, float[] p, float[] t, int rows, int cols, int batches) {
    Metric.Accumulator acc = m.newAccumulator();
    int per = rows / batches;
    for (int b = 0; b < batches; b++) {
      float[] pb = new float[per * cols], tb = new float[per * cols];
      System.arraycopy(p, b * per * cols, pb, 0, pb.length);
      System.arraycopy(t, b * per * cols, tb, 0, tb.length);
      acc.update(CPU, Tensor.of(pb, per, cols), Tensor.of(tb, per, cols), DENSE, per, cols);
    }
    return acc.result();
  }

  @Test
  void regressionErrorsOverAllSamples() {
    float[] p = {1, 2, 3, 4, 5, 6}, t = {1, 0, 3, 7, 5, 5};
    // errors 0, 2, 0, -3, 0, 1: |e| sums to 6, e² to 14.
    assertEquals(1.0, feed(new ErrorMetric(ErrorMetric.Kind.MAE), p, t, 6, 1, 3), 1e-12);
    assertEquals(14 / 6.0, feed(new ErrorMetric(ErrorMetric.Kind.MSE), p, t, 6, 1, 3), 1e-12);
    // The root of the mean over all samples, not the mean of the three batches' roots.
    assertEquals(
        Math.sqrt(14 / 6.0), feed(new ErrorMetric(ErrorMetric.Kind.RMSE), p, t, 6, 1, 3), 1e-12);
  }

  @Test
  void aucMatchesThePairwiseDefinition() {
    SplittableRandom r = new SplittableRandom(5);
    int n = 2000;
    float[] p = new float[n], t = new float[n];
    for (int i = 0; i < n; i++) {
      t[i] = r.nextDouble() < 0.3 ? 1 : 0;
      p[i] = (float) (r.nextGaussian() + 1.2 * t[i]); // logits, positives higher on average
    }
    double pairs = 0, total = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        if (t[i] == 1 && t[j] == 0) {
          pairs += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
          total++;
        }
      }
    }
    double exact = pairs / total;
    double bucketed = feed(new Auc(true), p, t, n, 1, 4);
    assertEquals(exact, bucketed, 2e-3, "exact AUC " + exact);
    assertTrue(exact > 0.7 && exact < 0.9, "a separable-but-noisy case: " + exact);
  }

  @Test
  void aucOfPerfectAndReversedScores() {
    float[] p = {0.9f, 0.8f, 0.3f, 0.1f}, t = {1, 1, 0, 0};
    assertEquals(1.0, feed(new Auc(false), p, t, 4, 1, 2), 1e-12);
    float[] reversed = {0.1f, 0.3f, 0.8f, 0.9f};
    assertEquals(0.0, feed(new Auc(false), reversed, t, 4, 1, 2), 1e-12);
  }

  @Test
  void binaryAccuracyThresholdsLogitsAtZeroAndProbabilitiesAtHalf() {
    float[] logits = {2, -1, 0.5f, -3}, t = {1, 1, 0, 0};
    assertEquals(0.5, feed(new BinaryAccuracy(0f), logits, t, 4, 1, 2), 1e-12);
    Metric fromName = Metrics.byName("accuracy", Losses.binaryCrossentropy(false), 3);
    assertInstanceOf(BinaryAccuracy.class, fromName);
    float[] probs = {0.7f, 0.2f, 0.4f, 0.6f, 0.9f, 0.1f}, multi = {1, 0, 0, 1, 1, 1};
    assertEquals(5 / 6.0, feed(fromName, probs, multi, 2, 3, 1), 1e-12);
  }

  @Test
  void topKCountsTheTargetAmongTheKBest() {
    float[] scores = {0.1f, 0.5f, 0.3f, 0.1f, 0.9f, 0.0f, 0.05f, 0.05f, 0.9f};
    float[] oneHot = {1, 0, 0, 0, 1, 0, 0, 1, 0}; // target ranks 3rd, 1st, 2nd
    assertEquals(2 / 3.0, feed(new TopKAccuracy(2), scores, oneHot, 3, 3, 1), 1e-12);
    assertEquals(1 / 3.0, feed(new Accuracy(), scores, oneHot, 3, 3, 1), 1e-12);
    assertEquals("top_2_accuracy", Metrics.byName("top_2_accuracy", Losses.huber(), 3).name());
  }

  @Test
  void namesAreCheckedAndDefaultsFollowTheTask() {
    Loss mse = Losses.meanSquaredError();
    var e = assertThrows(IllegalArgumentException.class, () -> Metrics.byName("f1", mse, 1));
    assertTrue(e.getMessage().contains("unknown metric 'f1'"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> Metrics.byNames(List.of("mae", "mae"), mse, 1));
    assertEquals(List.of(), Metrics.defaults(mse, 1, false));
    assertEquals("accuracy", Metrics.defaults(mse, 10, true).get(0).name());
    var sparse = Losses.sparseCategoricalCrossentropy(true);
    var wrong =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new ErrorMetric(ErrorMetric.Kind.MAE)
                    .newAccumulator()
                    .update(
                        CPU, Tensor.zeros(2, 3), Tensor.zeros(2), sparse.targetEncoding(), 2, 3));
    assertTrue(wrong.getMessage().contains("class indices"), wrong.getMessage());
  }
}
