package dev.marrow.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Conv2D;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Flatten;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.Trainer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The data pipeline: a streaming source (read ahead on another thread) trains to the same weights
 * as the in-memory one, augmentation is seeded, subsets do not copy, and a reader's failure reaches
 * the training thread.
 */
class DataPipelineTest {
  private static final Backend CPU = TestBackends.cpu(2);

  @AfterAll
  static void close() {
    CPU.close();
  }

  /** An in-memory data set that claims to read from disk, so the trainer prefetches it. */
  static final class Streamed implements DataSource {
    final Dataset data;
    final AtomicInteger reads = new AtomicInteger();
    volatile Thread lastReader;
    int failAtRead = -1;

    Streamed(Dataset data) {
      this.data = data;
    }

    @Override
    public int size() {
      return data.size();
    }

    @Override
    public Shape sampleShape() {
      return data.sampleShape();
    }

    @Override
    public Targets targets() {
      return data.targets();
    }

    @Override
    public boolean streams() {
      return true;
    }

    @Override
    public void read(int[] indices, int from, int count, Batch batch) {
      if (reads.incrementAndGet() == failAtRead) {
        throw new IllegalStateException("images/0042.png is truncated");
      }
      lastReader = Thread.currentThread();
      data.read(indices, from, count, batch);
    }
  }

  static Dataset images(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n * 64];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = r.nextInt(3);
      for (int p = 0; p < 64; p++) {
        x[i * 64 + p] = (float) r.nextGaussian() * 0.3f + (p % 8 < 3 * (y[i] + 1) ? 1f : 0f);
      }
    }
    return new Dataset(Tensor.of(x, n, 1, 8, 8), y, 3);
  }

  static Sequential cnn() {
    Sequential m = new Sequential(1, 8, 8);
    m.add(new Conv2D(4, 3, dev.marrow.engine.backend.Activation.RELU))
        .add(new Flatten())
        .add(new Dense(3, "linear"));
    return m;
  }

  private static List<float[]> train(DataSource data, Augmentation augmentation) {
    Sequential m = cnn();
    m.build(3);
    Trainer t = new Trainer(m, new Adam(1e-2), new SparseCategoricalCrossentropy(true), CPU);
    t.fit(
        data,
        FitOptions.defaults()
            .epochs(2)
            .batchSize(16)
            .seed(11)
            .augmentation(augmentation)
            .verbose(dev.marrow.engine.train.callbacks.ProgressLogger.Verbosity.SILENT));
    List<float[]> weights = new ArrayList<>();
    for (Parameter p : m.parameters()) {
      weights.add(p.value().readArray().clone());
    }
    return weights;
  }

  @Test
  void streamingTrainsToTheSameWeightsAsInMemory() {
    Dataset data = images(100, 1); // 7 batches, the last one of 4
    Streamed streamed = new Streamed(data);
    List<float[]> inMemory = train(data, null), prefetched = train(streamed, null);
    for (int i = 0; i < inMemory.size(); i++) {
      assertArrayEquals(inMemory.get(i), prefetched.get(i), "parameter " + i);
    }
    assertEquals(14, streamed.reads.get(), "7 batches in each of 2 epochs");
    assertNotEquals(Thread.currentThread(), streamed.lastReader, "read on the reader thread");
  }

  @Test
  void augmentationIsSeededAndChangesTraining() {
    Dataset data = images(64, 2);
    var aug = new ImageAugmentation(EnumSet.allOf(ImageAugmentation.Kind.class));
    List<float[]> a = train(data, aug),
        b = train(new Streamed(data), aug),
        plain = train(data, null);
    assertArrayEquals(a.get(0), b.get(0), "same seed, same augmented weights, streamed or not");
    assertFalse(java.util.Arrays.equals(a.get(0), plain.get(0)), "augmentation changed training");
  }

  @Test
  void cropShiftsWithZerosFlipMirrorsAndShiftRepeatsTheEdge() {
    Shape s = Shape.of(1, 8, 8);
    Batch b = new Batch(1, s, Targets.classes(2));
    float[] image = b.features();
    for (int i = 0; i < 64; i++) {
      image[i] = i + 1;
    }
    b.setRows(1);
    float[] original = image.clone();
    boolean flipped = false;
    for (int seed = 0; !flipped; seed++) { // some seed flips
      System.arraycopy(original, 0, image, 0, 64);
      new ImageAugmentation(EnumSet.of(ImageAugmentation.Kind.FLIP))
          .apply(b, new SplittableRandom(seed));
      flipped = image[0] == original[7];
      if (flipped) {
        assertEquals(original[8 + 7], image[8], "row 1 mirrored too");
      }
    }
    int zeros = 0, moved = 0;
    for (int seed = 0; seed < 20; seed++) {
      System.arraycopy(original, 0, image, 0, 64);
      new ImageAugmentation(EnumSet.of(ImageAugmentation.Kind.CROP))
          .apply(b, new SplittableRandom(seed));
      for (float v : image) {
        zeros += v == 0 ? 1 : 0;
      }
      moved += java.util.Arrays.equals(image, original) ? 0 : 1;
      System.arraycopy(original, 0, image, 0, 64);
      new ImageAugmentation(EnumSet.of(ImageAugmentation.Kind.SHIFT))
          .apply(b, new SplittableRandom(seed));
      for (float v : image) {
        assertTrue(v != 0, "shift fills with the nearest edge pixel, never zeros");
      }
    }
    assertTrue(moved > 10 && zeros > 0, "crop moved " + moved + " of 20 images, zeros " + zeros);
    var bad = assertThrows(IllegalArgumentException.class, () -> ImageAugmentation.parse("rotate"));
    assertTrue(bad.getMessage().contains("'rotate'"), bad.getMessage());
  }

  @Test
  void subsetsReadThroughWithoutCopying() {
    Dataset data = images(10, 3);
    DataSource odd = data.subset(new int[] {9, 1, 5});
    Batch b = odd.newBatch(3);
    odd.read(null, 0, 3, b);
    assertEquals(3, b.rows());
    assertArrayEquals(new int[] {data.label(9), data.label(1), data.label(5)}, b.labels());
    float[] row = new float[64];
    System.arraycopy(data.features().readArray(), 9 * 64, row, 0, 64);
    assertArrayEquals(row, java.util.Arrays.copyOfRange(b.features(), 0, 64));
    DataSource tail = data.range(7, 10);
    assertEquals(3, tail.size());
    assertSame(data.targets(), tail.targets());
    assertThrows(IllegalArgumentException.class, () -> data.subset(new int[] {10}));
  }

  @Test
  void aReaderFailureReachesTheTrainingThread() {
    Streamed broken = new Streamed(images(100, 4));
    broken.failAtRead = 3;
    var e = assertThrows(IllegalStateException.class, () -> train(broken, null));
    assertEquals("images/0042.png is truncated", e.getMessage());
  }

  @Test
  void valueTargetsMustMatchTheOutput() {
    Dataset twoTargets =
        Dataset.withValues(Tensor.zeros(4, 1, 8, 8), Tensor.of(new float[8], 4, 2));
    Sequential m = cnn(); // 3 outputs
    m.build(1);
    Trainer t =
        new Trainer(m, new Adam(1e-2), dev.marrow.Losses.meanSquaredError(), CPU, List.of("mae"));
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> t.fit(twoTargets, FitOptions.defaults().batchSize(4)));
    assertTrue(e.getMessage().contains("targets have shape (2,)"), e.getMessage());
    assertTrue(e.getMessage().contains("outputs (3,)"), e.getMessage());
    Trainer sparse = new Trainer(m, new Adam(1e-2), new SparseCategoricalCrossentropy(true), CPU);
    var wrongLoss =
        assertThrows(
            IllegalArgumentException.class,
            () -> sparse.fit(twoTargets, FitOptions.defaults().batchSize(4)));
    assertTrue(wrongLoss.getMessage().contains("takes class labels"), wrongLoss.getMessage());
    var nan =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Dataset.withValues(
                    Tensor.zeros(2, 3), Tensor.of(new float[] {1, Float.NaN}, 2, 1)));
    assertEquals("target 0 of sample 1 is NaN", nan.getMessage());
  }
}
