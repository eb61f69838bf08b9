package dev.marrow.models.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Batch;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Flatten;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.train.Evaluation;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.Trainer;
import dev.marrow.engine.train.callbacks.ProgressLogger;
import dev.marrow.models.mnist.IdxFormatException;
import dev.marrow.models.mnist.Mnist;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxSourceTest {
  @TempDir Path dir;

  /** An IDX file: magic for unsigned bytes of this rank, the sizes, the data. */
  static byte[] idx(int[] dims, byte[] data) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(0x800 | dims.length);
    for (int d : dims) {
      out.writeInt(d);
    }
    out.write(data);
    return bytes.toByteArray();
  }

  /**
   * n images of rows × cols whose class shows: a bright square at a place that depends on the
   * label, over random dark noise. Labels cycle through 0-9.
   */
  static Path[] writePair(Path dir, int n, int rows, int cols, long seed) throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    byte[] px = new byte[n * rows * cols];
    byte[] labels = new byte[n];
    for (int i = 0; i < n; i++) {
      int label = random.nextInt(10);
      labels[i] = (byte) label;
      for (int p = 0; p < rows * cols; p++) {
        int y = p / cols, x = p % cols;
        boolean mark = y / 2 == label % 4 && x / 2 == label / 4;
        px[i * rows * cols + p] = (byte) (mark ? 200 + random.nextInt(56) : random.nextInt(90));
      }
    }
    Path images = dir.resolve("images-idx3-ubyte");
    Path labelsFile = dir.resolve("labels-idx1-ubyte");
    Files.write(images, idx(new int[] {n, rows, cols}, px));
    Files.write(labelsFile, idx(new int[] {n}, labels));
    return new Path[] {images, labelsFile};
  }

  @Test
  void readsTheSamePixelsAndLabelsAsTheInMemoryLoader() throws IOException {
    Path[] files = writePair(dir, 50, 5, 6, 1);
    Dataset memory = Mnist.load(files[0], files[1]);
    try (IdxSource stream = IdxSource.open(files[0], files[1])) {
      assertEquals(50, stream.size());
      assertEquals(Shape.of(1, 5, 6), stream.sampleShape());
      assertEquals(memory.targets(), stream.targets());
      assertTrue(stream.streams());
      // Scattered indices with a run of consecutive ones, read from the middle of the order.
      int[] order = {49, 3, 4, 5, 6, 0, 17, 16, 30};
      Batch a = memory.newBatch(8), b = stream.newBatch(8);
      memory.read(order, 1, 7, a);
      stream.read(order, 1, 7, b);
      assertEquals(7, b.rows());
      assertArrayEquals(a.features(), b.features()); // bit for bit
      assertArrayEquals(a.labels(), b.labels());
      memory.read(null, 40, 8, a);
      stream.read(null, 40, 8, b);
      assertArrayEquals(a.features(), b.features());
      assertArrayEquals(a.labels(), b.labels());
    }
  }

  @Test
  void trainingOnTheStreamedSourceGivesBitIdenticalWeights() throws IOException {
    Path[] files = writePair(dir, 300, 8, 8, 2);
    Dataset memory = Mnist.load(files[0], files[1]);
    float[][] fromMemory;
    float[][] fromDisk;
    Evaluation memoryEval;
    Evaluation diskEval;
    try (IdxSource stream = IdxSource.open(files[0], files[1]);
        CpuBackend cpu = new CpuBackend(2)) {
      Trainer onMemory = trainer(cpu);
      onMemory.fit(memory, options());
      fromMemory = weights(onMemory.model());
      memoryEval = onMemory.evaluate(memory);
      Trainer onDisk = trainer(cpu);
      onDisk.fit(stream, options());
      fromDisk = weights(onDisk.model());
      diskEval = onDisk.evaluate(stream);
    }
    for (int i = 0; i < fromMemory.length; i++) {
      assertArrayEquals(fromMemory[i], fromDisk[i], "parameter " + i);
    }
    assertEquals(memoryEval, diskEval);
    // The model did learn (chance is 10 %), so the comparison covered real updates.
    assertTrue(memoryEval.accuracy() > 0.5, "accuracy " + memoryEval.accuracy());
  }

  private static Trainer trainer(CpuBackend cpu) {
    Graph net =
        new Sequential(1, 8, 8)
            .add(new Flatten())
            .add(new Dense(16, Activation.RELU))
            .add(new Dense(10))
            .build(7);
    return new Trainer(net, new Adam(1e-2), new SparseCategoricalCrossentropy(true), cpu);
  }

  private static FitOptions options() {
    return FitOptions.defaults()
        .epochs(2)
        .batchSize(32)
        .seed(11)
        .validationSplit(0.2)
        .verbose(ProgressLogger.Verbosity.SILENT);
  }

  private static float[][] weights(Graph net) {
    return net.parameters().stream()
        .map(p -> p.value().readArray().clone())
        .toArray(float[][]::new);
  }

  @Test
  void refusesGzipAndGunzipGivesTheRawFile() throws IOException {
    Path[] files = writePair(dir, 10, 3, 3, 3);
    Path gz = dir.resolve("images-idx3-ubyte.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(Files.readAllBytes(files[0]));
    }
    IdxFormatException e =
        assertThrows(IdxFormatException.class, () -> IdxSource.open(gz, files[1]));
    assertTrue(e.getMessage().startsWith(gz.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("gzip"), e.getMessage());

    Path out = Files.createDirectory(dir.resolve("raw"));
    Path raw = IdxSource.gunzip(gz, out);
    assertEquals(out.resolve("images-idx3-ubyte"), raw);
    assertArrayEquals(Files.readAllBytes(files[0]), Files.readAllBytes(raw));
    try (IdxSource s = IdxSource.open(raw, files[1])) {
      assertEquals(10, s.size());
    }
  }

  @Test
  void badFilesAreNamedWithWhatWasExpected() throws IOException {
    Path[] files = writePair(dir, 10, 3, 3, 4);
    byte[] images = Files.readAllBytes(files[0]);

    Path truncated = dir.resolve("truncated");
    Files.write(truncated, Arrays.copyOf(images, images.length - 5));
    String m = message(() -> IdxSource.open(truncated, files[1]));
    assertTrue(m.startsWith(truncated + ": header declares 10×3×3 = 90 bytes"), m);
    assertTrue(m.contains("(truncated)"), m);

    Path labelsFileAsImages = files[1];
    m = message(() -> IdxSource.open(labelsFileAsImages, files[1]));
    assertTrue(m.startsWith(labelsFileAsImages + ": magic declares 1 dimensions"), m);

    Path fewer = dir.resolve("fewer-labels");
    Files.write(fewer, idx(new int[] {9}, new byte[9]));
    m = message(() -> IdxSource.open(files[0], fewer));
    assertEquals(files[0] + " holds 10 images but " + fewer + " holds 9 labels", m);

    Path outOfRange = dir.resolve("label-12");
    byte[] labels = new byte[10];
    labels[6] = 12;
    Files.write(outOfRange, idx(new int[] {10}, labels));
    m = message(() -> IdxSource.open(files[0], outOfRange));
    assertEquals(outOfRange + ": label 12 of sample 6 at offset 14 is outside [0, 10)", m);
    try (IdxSource wider = IdxSource.open(files[0], outOfRange, 13)) {
      assertEquals(13, wider.targets().classes());
    }

    // More than 2 GB of pixels is fine for a streamed file (the in-memory reader stops at 2^31).
    Path huge = dir.resolve("huge-header");
    Files.write(huge, idx(new int[] {3_000_000, 28, 28}, new byte[0]));
    m = message(() -> IdxSource.open(huge, files[1]));
    assertTrue(m.startsWith(huge + ": header declares 3000000×28×28 = 2352000000 bytes"), m);

    Path missing = dir.resolve("nothing-here");
    assertEquals(missing + ": no such file", message(() -> IdxSource.open(missing, files[1])));
  }

  private interface Opening {
    void run() throws IOException;
  }

  private static String message(Opening opening) {
    return assertThrows(IdxFormatException.class, opening::run).getMessage();
  }

  // BatchReader interrupts its reader thread when a pass ends early; an interruptible channel
  // would close itself then and fail every later epoch.
  /** Small files are mapped; this opens one for positional reads, the way large files are read. */
  static IdxSource openPositional(Path images, Path labels) throws IOException {
    System.setProperty(IdxPixels.MAP_AT_MOST_PROPERTY, "0");
    try {
      return IdxSource.open(images, labels);
    } finally {
      System.clearProperty(IdxPixels.MAP_AT_MOST_PROPERTY);
    }
  }

  @Test
  void positionalReadsGiveTheMappedBytes() throws IOException {
    Path[] files = writePair(dir, 50, 5, 3, 8);
    int[] order = {7, 8, 9, 3, 49, 0, 1};
    try (IdxSource mapped = IdxSource.open(files[0], files[1]);
        IdxSource positional = openPositional(files[0], files[1])) {
      Batch a = mapped.newBatch(7), b = positional.newBatch(7);
      mapped.read(order, 0, 7, a);
      positional.read(order, 0, 7, b);
      assertArrayEquals(a.features(), b.features());
      assertArrayEquals(a.labels(), b.labels());
    }
  }

  @Test
  void keepsReadingAfterTheReadingThreadWasInterrupted() throws IOException {
    Path[] files = writePair(dir, 20, 4, 4, 5);
    try (IdxSource s = openPositional(files[0], files[1])) {
      Batch b = s.newBatch(4);
      Thread.currentThread().interrupt();
      try {
        s.read(null, 0, 4, b);
      } finally {
        assertTrue(Thread.interrupted());
      }
      s.read(null, 4, 4, b);
      assertEquals(4, b.rows());
    }
  }

  @Test
  void aFileCutShortWhileOpenIsAnErrorNamingIt() throws IOException {
    Path[] files = writePair(dir, 20, 4, 4, 6);
    try (IdxSource s = IdxSource.open(files[0], files[1])) {
      try (var channel = Files.newByteChannel(files[0], java.nio.file.StandardOpenOption.WRITE)) {
        channel.truncate(16 + 10 * 16);
      }
      Batch b = s.newBatch(4);
      s.read(null, 0, 4, b);
      UncheckedIOException e =
          assertThrows(UncheckedIOException.class, () -> s.read(null, 8, 4, b));
      assertTrue(
          e.getMessage().startsWith(files[0] + ": cannot read samples 8..11"), e.getMessage());
    }
  }

  @Test
  void readingAfterCloseIsAnError() throws IOException {
    Path[] files = writePair(dir, 4, 2, 2, 7);
    IdxSource s = IdxSource.open(files[0], files[1]);
    s.close();
    assertThrows(IllegalStateException.class, () -> s.read(null, 0, 1, s.newBatch(1)));
  }
}
