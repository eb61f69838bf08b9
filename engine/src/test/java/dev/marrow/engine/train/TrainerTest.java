package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.MeanSquaredError;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Dropout;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.optim.Sgd;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

public class TrainerTest {

  /** Points in 2-D labelled by which of three angular sectors they fall in: not linearly easy. */
  public static Dataset sectors(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n * 2];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      double a = r.nextDouble() * 2 * Math.PI, radius = 0.2 + r.nextDouble();
      x[2 * i] = (float) (radius * Math.cos(a));
      x[2 * i + 1] = (float) (radius * Math.sin(a));
      y[i] = (int) (a / (2 * Math.PI / 3));
    }
    return new Dataset(Tensor.wrap(x, Shape.of(n, 2)), y, 3);
  }

  public static Sequential mlp(long seed) {
    return new Sequential(2)
        .add(new Dense(32, Activation.RELU))
        .add(new Dropout(0.1))
        .add(new Dense(3))
        .build(seed);
  }

  @Test
  void fitLearnsANonLinearProblemAndReportsHistory() {
    Dataset train = sectors(3000, 1), test = sectors(1000, 2);
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Trainer t = new Trainer(mlp(1), new Adam(1e-2), new SparseCategoricalCrossentropy(true), cpu);
      History h = t.fit(train, FitOptions.defaults().epochs(15).batchSize(50).validationSplit(0.2));
      assertEquals(15, h.epochs().size());
      EpochStats first = h.epochs().getFirst(), last = h.last();
      assertTrue(
          last.loss() < first.loss() / 2, "loss fell: " + first.loss() + " → " + last.loss());
      assertTrue(last.hasValidation());
      assertTrue(last.valAccuracy() > 0.9, "validation accuracy " + last.valAccuracy());
      assertTrue(last.seconds() > 0 && last.samplesPerSecond() > 0);
      Evaluation e = t.evaluate(test);
      assertTrue(e.accuracy() > 0.9, "test accuracy " + e.accuracy());
      assertEquals(1000, e.samples());
    }
  }

  @Test
  void sameSeedAndThreadsGiveBitIdenticalWeights() {
    Dataset train = sectors(1000, 3);
    List<float[]> runs = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      try (CpuBackend cpu = TestBackends.cpu(2)) {
        Sequential m = mlp(7);
        // 1000 is not a multiple of 64: the last batch of each epoch runs through a second plan.
        new Trainer(m, new Sgd(0.1, 0.9, true, 1e-4), new SparseCategoricalCrossentropy(true), cpu)
            .fit(train, FitOptions.defaults().epochs(3).batchSize(64).seed(5));
        runs.add(flatten(m));
      }
    }
    assertArrayEquals(runs.get(0), runs.get(1));
  }

  @Test
  void differentSeedsShuffleDifferently() {
    Dataset train = sectors(500, 4);
    float[][] w = new float[2][];
    for (int run = 0; run < 2; run++) {
      try (CpuBackend cpu = TestBackends.cpu(1)) {
        Sequential m = mlp(7);
        new Trainer(m, new Sgd(0.1), new SparseCategoricalCrossentropy(true), cpu)
            .fit(train, FitOptions.defaults().epochs(1).batchSize(32).seed(run));
        w[run] = flatten(m);
      }
    }
    assertTrue(!java.util.Arrays.equals(w[0], w[1]));
  }

  @Test
  void predictMatchesEvaluateAndChecksTheShape() {
    Dataset data = sectors(1234, 5);
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Trainer t = new Trainer(mlp(2), new Adam(1e-2), new SparseCategoricalCrossentropy(true), cpu);
      t.fit(data, FitOptions.defaults().epochs(3));
      Tensor out = t.predict(data.features());
      assertEquals(Shape.of(1234, 3), out.shape());
      int correct = 0;
      for (int i = 0; i < 1234; i++) {
        int best = 0;
        for (int c = 1; c < 3; c++) {
          best = out.get(i * 3 + c) > out.get(i * 3 + best) ? c : best;
        }
        correct += best == data.label(i) ? 1 : 0;
      }
      assertEquals(t.evaluate(data).accuracy(), correct / 1234.0, 1e-12);
      var e = assertThrows(IllegalArgumentException.class, () -> t.predict(Tensor.zeros(4, 3)));
      assertTrue(e.getMessage().contains("(N, 2,)"), e.getMessage());
    }
  }

  @Test
  void callbacksSeeEveryBatchAndCanStopTraining() {
    Dataset data = sectors(100, 6);
    int[] batches = {0};
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      Trainer t = new Trainer(mlp(2), new Sgd(0.05), MeanSquaredError.quadraticCost(), cpu);
      History h =
          t.fit(
              data,
              FitOptions.defaults()
                  .epochs(10)
                  .batchSize(30)
                  .callback(
                      new Callback() {
                        @Override
                        public void onBatchEnd(TrainingContext ctx, int batch, BatchLogs logs) {
                          batches[0]++;
                        }

                        @Override
                        public void onEpochEnd(TrainingContext ctx, EpochStats stats) {
                          if (stats.epoch() == 2) {
                            ctx.stopTraining();
                          }
                        }
                      }));
      assertEquals(2, h.epochs().size());
      assertEquals(2 * 4, batches[0], "4 batches of ≤30 per epoch of 100");
    }
  }

  @Test
  void badArgumentsAreRejectedWithTheExpectation() {
    assertThrows(IllegalArgumentException.class, () -> FitOptions.defaults().batchSize(0));
    assertThrows(IllegalArgumentException.class, () -> FitOptions.defaults().epochs(0));
    assertThrows(IllegalArgumentException.class, () -> FitOptions.defaults().validationSplit(1));
    var e = assertThrows(IllegalArgumentException.class, () -> new Adam(-1));
    assertTrue(e.getMessage().contains("-1"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> new Dataset(Tensor.zeros(2, 3), new int[] {0, 5}, 3));
  }

  private static float[] flatten(Sequential m) {
    int n = 0;
    for (Parameter p : m.parameters()) {
      n += p.value().size();
    }
    float[] out = new float[n];
    int o = 0;
    for (Parameter p : m.parameters()) {
      System.arraycopy(p.value().array(), 0, out, o, p.value().size());
      o += p.value().size();
    }
    return out;
  }
}
