package dev.marrow.bench;

import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.Trainer;
import dev.marrow.engine.train.callbacks.ProgressLogger;
import dev.marrow.models.data.IdxSource;
import dev.marrow.models.mnist.Mnist;
import dev.marrow.models.mnist.MnistFiles;
import dev.marrow.models.zoo.ModelSpec;
import dev.marrow.models.zoo.ModelZoo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench/run --data-sources [REPS] [THREADS]}: one MNIST training epoch (the zoo's mlp, batch
 * 128, Adam) on the in-memory data set and on the same files streamed from disk ({@link
 * IdxSource}), side by side in one JVM. Repetitions alternate which source goes first, so drift in
 * a shared machine's load falls on both; the figures are medians. Both trainers start from the same
 * weights and see the same batches, so their weights must stay identical, which is checked.
 *
 * <p>Epoch time is the trainer's own (EpochStats.seconds: reading, training and metrics). The
 * streamed files sit in the page cache after the first epoch, as MNIST-sized data does in practice;
 * the larger-than-heap run (bench/data/larger-than-heap) covers data that does not fit.
 */
public final class DataSourceComparison {
  private static final int BATCH = 128;
  private static final int WARMUP_EPOCHS = 2;

  private DataSourceComparison() {}

  public static void main(String[] args) throws Exception {
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    Path dir =
        MnistFiles.offline(
                MnistFiles.dataDirFromEnvironment(),
                MnistFiles.defaultCacheDir(),
                System.err::println)
            .locate();
    Path images = MnistFiles.resolve(dir, MnistFiles.File.TRAIN_IMAGES);
    Path labels = MnistFiles.resolve(dir, MnistFiles.File.TRAIN_LABELS);
    Path temp = Files.createTempDirectory("marrow-stream-bench");
    try {
      // The cache may hold .gz files; streaming needs the raw one (IdxSource explains why).
      Path rawImages = images.toString().endsWith(".gz") ? IdxSource.gunzip(images, temp) : images;
      Dataset memory = Mnist.load(images, labels);
      try (IdxSource stream = IdxSource.open(rawImages, labels);
          CpuBackend cpu = new CpuBackend(threads)) {
        run(memory, stream, cpu, reps, threads, rawImages);
      }
    } finally {
      try (var files = Files.list(temp)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(temp);
    }
  }

  private static void run(
      Dataset memory, IdxSource stream, CpuBackend cpu, int reps, int threads, Path file) {
    ModelSpec spec = ModelZoo.find("mlp").orElseThrow();
    Trainer onMemory = new Trainer(spec.build(1), new Adam(1e-3), spec.loss().get(), cpu);
    Trainer onDisk = new Trainer(spec.build(1), new Adam(1e-3), spec.loss().get(), cpu);
    System.out.printf(
        Locale.ROOT,
        "MNIST train (%d images), mlp, batch %d, %d threads; streamed from %s%n",
        memory.size(),
        BATCH,
        threads,
        file);
    for (int e = 0; e < WARMUP_EPOCHS; e++) {
      epoch(onMemory, memory, e);
      epoch(onDisk, stream, e);
    }
    double[] inMemory = new double[reps], streamed = new double[reps], ratio = new double[reps];
    System.out.println("rep  first   in-memory s  streamed s  streamed/in-memory");
    for (int r = 0; r < reps; r++) {
      long seed = WARMUP_EPOCHS + r;
      boolean memoryFirst = r % 2 == 0;
      if (memoryFirst) {
        inMemory[r] = epoch(onMemory, memory, seed);
        streamed[r] = epoch(onDisk, stream, seed);
      } else {
        streamed[r] = epoch(onDisk, stream, seed);
        inMemory[r] = epoch(onMemory, memory, seed);
      }
      ratio[r] = streamed[r] / inMemory[r];
      System.out.printf(
          Locale.ROOT,
          "%3d  %-6s  %11.3f  %10.3f  %18.3f%n",
          r + 1,
          memoryFirst ? "memory" : "stream",
          inMemory[r],
          streamed[r],
          ratio[r]);
    }
    System.out.printf(
        Locale.ROOT,
        "median  in-memory %.3f s  streamed %.3f s  streamed/in-memory %.3f (median of per-rep"
            + " ratios %.3f); weights identical: %b%n",
        Stats.median(inMemory),
        Stats.median(streamed),
        Stats.median(streamed) / Stats.median(inMemory),
        Stats.median(ratio),
        sameWeights(onMemory.model().parameters(), onDisk.model().parameters()));
  }

  private static double epoch(Trainer trainer, DataSource data, long seed) {
    return trainer
        .fit(
            data,
            FitOptions.defaults()
                .epochs(1)
                .batchSize(BATCH)
                .seed(seed)
                .verbose(ProgressLogger.Verbosity.SILENT))
        .epochs()
        .getFirst()
        .seconds();
  }

  private static boolean sameWeights(List<Parameter> a, List<Parameter> b) {
    for (int i = 0; i < a.size(); i++) {
      if (!Arrays.equals(a.get(i).value().readArray(), b.get(i).value().readArray())) {
        return false;
      }
    }
    return true;
  }
}
