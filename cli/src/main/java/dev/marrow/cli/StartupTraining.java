package dev.marrow.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The workload the launcher runs once after a build to record the JDK's ahead-of-time cache ({@code
 * -XX:AOTCacheOutput}, JEP 483/514/515): what a user's {@code marrow train} loads, links and
 * profiles, so that later runs start from the cache instead of loading and linking every class
 * again. It trains the zoo's mlp and cnn for one short epoch each through the real command line, on
 * a small MNIST-shaped IDX data set of noise written to a temporary folder (the real MNIST may not
 * be downloaded yet, and the cache must not depend on it), on the default device (so the CUDA probe
 * is recorded too), plots and checkpoints included, then deletes everything.
 *
 * <p>The cache changes how fast classes are found, never what the code computes: a run with it and
 * one without write the same weights ({@code StartupCacheTest}).
 *
 * <pre>java -XX:AOTCacheOutput=FILE … dev.marrow.cli.StartupTraining</pre>
 *
 * Exit status 0 when every training run succeeded.
 */
public final class StartupTraining {
  /** Training images: 16 steps of the mlp's batch 32, 4 of the cnn's 128. */
  static final int TRAIN_IMAGES = 512;

  /** Test images (the final evaluation and the confusion plot run on them). */
  static final int TEST_IMAGES = 128;

  private StartupTraining() {}

  public static void main(String[] args) throws IOException {
    Path dir = Files.createTempDirectory("marrow-startup-");
    int code;
    try {
      code = run(dir, new PrintWriter(Writer.nullWriter()));
    } finally {
      deleteTree(dir);
    }
    System.exit(code);
  }

  /** Trains the mlp and the cnn under {@code dir}; returns the first non-zero exit code, or 0. */
  static int run(Path dir, PrintWriter out) throws IOException {
    Path data = dir.resolve("data");
    writeIdx(data, "train", TRAIN_IMAGES);
    writeIdx(data, "t10k", TEST_IMAGES);
    for (String model : List.of("mlp", "cnn")) {
      String[] args = {
        "train",
        "--model",
        model,
        "--dataset",
        "idx:" + data,
        "--epochs",
        "1",
        "--no-progress",
        "--out",
        dir.resolve(model).toString()
      };
      int code = Main.run(args, out, out);
      if (code != 0) {
        return code;
      }
    }
    return 0;
  }

  /**
   * MNIST-format IDX files {@code PREFIX-images-idx3-ubyte} and {@code PREFIX-labels-idx1-ubyte} in
   * {@code dir}: {@code count} 28 × 28 images of uniform noise (seeded by the count) with labels
   * 0-9 in turn.
   */
  static void writeIdx(Path dir, String prefix, int count) throws IOException {
    Files.createDirectories(dir);
    SplittableRandom random = new SplittableRandom(count);
    ByteBuffer images =
        ByteBuffer.allocate(16 + count * 784).putInt(0x803).putInt(count).putInt(28).putInt(28);
    ByteBuffer labels = ByteBuffer.allocate(8 + count).putInt(0x801).putInt(count);
    for (int i = 0; i < count; i++) {
      for (int p = 0; p < 784; p++) {
        images.put((byte) random.nextInt(256));
      }
      labels.put((byte) (i % 10));
    }
    Files.write(dir.resolve(prefix + "-images-idx3-ubyte"), images.array());
    Files.write(dir.resolve(prefix + "-labels-idx1-ubyte"), labels.array());
  }

  /** Removes the temporary folder; one left behind must not fail the cache's recording. */
  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // the folder stays in the temporary directory
    }
  }
}
