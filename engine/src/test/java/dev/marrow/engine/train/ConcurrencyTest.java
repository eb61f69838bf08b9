package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Several models and many callers in one JVM, as in a service that embeds Marrow. */
class ConcurrencyTest {
  private static final Dataset DATA = TrainerTest.sectors(800, 41);

  private static float[] train(Sequential m, CpuBackend cpu, long seed) {
    new Trainer(m, new Adam(1e-2), new SparseCategoricalCrossentropy(true), cpu)
        .fit(DATA, FitOptions.defaults().epochs(3).batchSize(32).seed(seed));
    List<Float> all = new ArrayList<>();
    for (Tensor t : ModelFiles.stateDict(m).values()) {
      for (float v : t.array()) {
        all.add(v);
      }
    }
    float[] out = new float[all.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = all.get(i);
    }
    return out;
  }

  @Test
  void twoModelsTrainingInParallelOnOneBackendMatchTrainingOneAfterTheOther() throws Exception {
    float[] a;
    float[] b;
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      a = train(TrainerTest.mlp(1), cpu, 11);
      b = train(TrainerTest.mlp(2), cpu, 12);
    }
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Future<float[]> fa = pool.submit(() -> train(TrainerTest.mlp(1), cpu, 11));
      Future<float[]> fb = pool.submit(() -> train(TrainerTest.mlp(2), cpu, 12));
      assertArrayEquals(a, fa.get());
      assertArrayEquals(b, fb.get());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void predictFromEightThreadsEqualsSerialPredict() throws Exception {
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Sequential m = TrainerTest.mlp(3);
      Trainer t = new Trainer(m, new Adam(1e-2), new SparseCategoricalCrossentropy(true), cpu);
      t.fit(DATA, FitOptions.defaults().epochs(2));
      float[] expected = t.predict(DATA.features()).array();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<float[]>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          results.add(
              pool.submit(
                  () -> {
                    float[] last = null;
                    for (int rep = 0; rep < 20; rep++) {
                      last = t.predict(DATA.features()).array();
                    }
                    return last;
                  }));
        }
        for (Future<float[]> f : results) {
          assertArrayEquals(expected, f.get());
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
