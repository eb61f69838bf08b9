package dev.marrow.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Predictor;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keras' Normalization: adapt fits the statistics, the layer applies them, files keep them. */
class NormalizationTest {

  /** Features with very different offsets and scales, as a raw table has them. */
  static Dataset table(int n) {
    SplittableRandom r = new SplittableRandom(9);
    float[] x = new float[n * 3];
    for (int i = 0; i < n; i++) {
      x[i * 3] = (float) (1000 + 50 * r.nextGaussian()); // a price
      x[i * 3 + 1] = (float) (0.001 * r.nextGaussian()); // a tiny rate
      x[i * 3 + 2] = 7f; // a constant column
    }
    return new Dataset(Tensor.of(x, n, 3), new int[n], 1);
  }

  @Test
  void adaptFitsMeanAndPopulationVariancePerFeature() {
    Dataset data = table(2500); // read in batches of 1024: three reads
    Normalization norm = new Normalization().adapt(data);
    new Sequential(3).add(norm).build(1);
    double[] sum = new double[3], sq = new double[3];
    float[] x = data.features().readArray();
    for (int i = 0; i < x.length; i++) {
      sum[i % 3] += x[i];
    }
    for (int i = 0; i < x.length; i++) {
      double d = x[i] - sum[i % 3] / 2500;
      sq[i % 3] += d * d;
    }
    for (int f = 0; f < 3; f++) {
      assertEquals(sum[f] / 2500, norm.mean()[f], Math.abs(sum[f] / 2500) * 1e-6 + 1e-9);
      assertEquals(sq[f] / 2500, norm.variance()[f], sq[f] / 2500 * 1e-5 + 1e-12);
    }
  }

  @Test
  void standardisesOnEveryBackendAndSurvivesSaveAndLoad(@TempDir Path dir) throws Exception {
    Dataset data = table(200);
    Sequential m = new Sequential(3);
    m.add(new Normalization().adapt(data));
    m.build(1);
    ModelFiles.save(m, dir, Map.of());
    Graph loaded = ModelFiles.load(dir);
    for (Backend b : TestBackends.withCuda(TestBackends.cpu(1))) {
      try (b) {
        Tensor y = new Predictor(loaded, b).predict(data.features());
        float[] v = y.readArray();
        double mean0 = 0, var0 = 0;
        for (int i = 0; i < 200; i++) {
          mean0 += v[i * 3] / 200.0;
        }
        for (int i = 0; i < 200; i++) {
          var0 += (v[i * 3] - mean0) * (v[i * 3] - mean0) / 200.0;
        }
        assertEquals(0, mean0, 1e-4, b.name());
        assertEquals(1, var0, 1e-3, b.name());
        assertEquals(0f, v[2], "a constant column becomes 0, not NaN");
      }
    }
    Normalization again = (Normalization) loaded.layers().get(0);
    assertArrayEquals(((Normalization) m.layers().get(0)).mean(), again.mean());
  }
}
