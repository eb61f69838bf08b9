package dev.marrow.bench;

import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.Trainer;
import dev.marrow.engine.train.callbacks.ProgressLogger;
import dev.marrow.models.data.IdxSource;
import dev.marrow.models.zoo.ModelSpec;
import dev.marrow.models.zoo.ModelZoo;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The two halves of {@code bench/data/larger-than-heap}:
 *
 * <ul>
 *   <li>{@code generate DIR N}: writes N synthetic 28 × 28 digits-like images as raw IDX files (N =
 *       2 000 000 is 1.57 GB), learnable: class c is a bright bar at a place and slant of its own,
 *       moved by up to ±3 pixels, over sparse noise;
 *   <li>{@code train DIR}: one epoch of the zoo's mlp on them through {@link IdxSource}, then the
 *       peak heap (sampled every 10 ms, and the JVM's per-pool peaks) and the peak resident set
 *       (VmHWM) of this process.
 * </ul>
 */
public final class LargerThanHeap {
  private static final int SIDE = 28;
  private static final double MIB = 1 << 20;
  private static final String IMAGES = "train-images-idx3-ubyte";
  private static final String LABELS = "train-labels-idx1-ubyte";

  private LargerThanHeap() {}

  public static void main(String[] args) throws Exception {
    switch (args.length > 0 ? args[0] : "") {
      case "generate" -> generate(Path.of(args[1]), Integer.parseInt(args[2]));
      case "train" -> train(Path.of(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 2);
      default -> {
        System.err.println("usage: LargerThanHeap generate DIR N | train DIR [THREADS]");
        System.exit(2);
      }
    }
  }

  static void generate(Path dir, int n) throws IOException {
    Files.createDirectories(dir);
    SplittableRandom random = new SplittableRandom(20_260_101);
    byte[] labels = new byte[n];
    byte[] image = new byte[SIDE * SIDE];
    try (DataOutputStream out =
        new DataOutputStream(
            new BufferedOutputStream(Files.newOutputStream(dir.resolve(IMAGES)), 1 << 20))) {
      out.writeInt(0x803);
      out.writeInt(n);
      out.writeInt(SIDE);
      out.writeInt(SIDE);
      for (int i = 0; i < n; i++) {
        labels[i] = (byte) random.nextInt(10);
        draw(labels[i], random, image);
        out.write(image);
      }
    }
    try (DataOutputStream out =
        new DataOutputStream(
            new BufferedOutputStream(Files.newOutputStream(dir.resolve(LABELS)), 1 << 20))) {
      out.writeInt(0x801);
      out.writeInt(n);
      out.write(labels);
    }
    System.out.printf(
        Locale.ROOT,
        "wrote %d images, %.2f GB, to %s%n",
        n,
        Files.size(dir.resolve(IMAGES)) / 1e9,
        dir);
  }

  // A 3-pixel-wide bar 14 pixels long, rising for classes 0-4 and falling for 5-9, its start row
  // 4 pixels apart from class to class; moved by at most ±1 pixel, so the classes never overlap.
  private static void draw(int c, SplittableRandom random, byte[] image) {
    for (int p = 0; p < image.length; p++) {
      image[p] = random.nextInt(8) == 0 ? (byte) random.nextInt(80) : 0;
    }
    int dx = random.nextInt(3) - 1, dy = random.nextInt(3) - 1;
    boolean rising = c < 5;
    int row = (rising ? 2 : 8) + 4 * (c % 5) + dy;
    for (int t = 0; t < 14; t++) {
      int x = 7 + t + dx;
      int y = rising ? row + t / 2 : row - t / 2;
      for (int w = 0; w < 3; w++) {
        image[(y + w) * SIDE + x] = (byte) (200 + random.nextInt(56));
      }
    }
  }

  static void train(Path dir, int threads) throws Exception {
    AtomicLong sampledPeak = new AtomicLong();
    Thread sampler =
        Thread.ofPlatform()
            .daemon()
            .name("heap-sampler")
            .start(
                () -> {
                  var memory = ManagementFactory.getMemoryMXBean();
                  while (!Thread.currentThread().isInterrupted()) {
                    sampledPeak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                    try {
                      Thread.sleep(10);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
    long fileBytes = Files.size(dir.resolve(IMAGES));
    long maxHeap = Runtime.getRuntime().maxMemory();
    ModelSpec spec = ModelZoo.find("mlp").orElseThrow();
    EpochStats stats;
    try (IdxSource data = IdxSource.open(dir.resolve(IMAGES), dir.resolve(LABELS));
        CpuBackend cpu = new CpuBackend(threads)) {
      System.out.printf(
          Locale.ROOT,
          "%d images, %.0f MiB on disk, max heap %.0f MiB (%.1f× smaller)%n",
          data.size(),
          fileBytes / MIB,
          maxHeap / MIB,
          (double) fileBytes / maxHeap);
      Trainer t = new Trainer(spec.build(1), new Adam(1e-3), spec.loss().get(), cpu);
      stats =
          t.fit(
                  data,
                  FitOptions.defaults()
                      .epochs(1)
                      .batchSize(128)
                      .verbose(ProgressLogger.Verbosity.EPOCH))
              .last();
    }
    sampler.interrupt();
    sampler.join();
    long poolPeaks = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        poolPeaks += pool.getPeakUsage().getUsed();
      }
    }
    System.out.printf(
        Locale.ROOT,
        "epoch %.1f s, %.0f samples/s, accuracy %.4f, loss %.4f%n",
        stats.seconds(),
        stats.samplesPerSecond(),
        stats.accuracy(),
        stats.loss());
    System.out.printf(
        Locale.ROOT,
        "peak heap used: %.1f MiB sampled every 10 ms, %.1f MiB summing each pool's peak;"
            + " peak RSS (VmHWM): %s%n",
        sampledPeak.get() / MIB,
        poolPeaks / MIB,
        vmHwm());
  }

  private static String vmHwm() throws IOException {
    return Files.readAllLines(Path.of("/proc/self/status")).stream()
        .filter(l -> l.startsWith("VmHWM:"))
        .map(l -> l.substring(6).trim())
        .findFirst()
        .orElse("unknown (no /proc/self/status)");
  }
}
