package dev.marrow.cli;

import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.data.Split;
import dev.marrow.models.data.CsvTable;
import dev.marrow.models.data.IdxSource;
import dev.marrow.models.mnist.Mnist;
import dev.marrow.models.mnist.MnistFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where the data comes from and what it is: shared by train, evaluate, predict and plot. */
final class DataOptions {
  @Option(
      names = "--data",
      paramLabel = "SPEC",
      description =
          "csv:FILE (a table with a header; --target names the target columns),"
              + " images:DIR (one sub-folder of PNG/JPEG images per class), idx:DIR (four"
              + " MNIST-style IDX files), mnist or fashion-mnist. Default: the run's data, else"
              + " mnist.")
  String data;

  @Option(
      names = "--dataset",
      paramLabel = "NAME",
      description = "The same as --data for mnist, fashion-mnist and idx:DIR (kept for scripts).")
  String dataset;

  @Option(
      names = "--target",
      paramLabel = "COLUMN[,COLUMN…]",
      split = ",",
      description = "With csv: the target column(s); every other column is a feature.")
  List<String> targets;

  @Option(
      names = "--task",
      paramLabel = "KIND",
      description =
          "With csv: regression or classification (default: classification for a text"
              + " target column, else regression; several classification columns are"
              + " multi-label 0/1 targets).")
  String task;

  @Option(
      names = "--image-size",
      paramLabel = "H,W",
      description = "With images: resize every image to H×W pixels (default 28,28).")
  String imageSize;

  @Option(
      names = "--grayscale",
      description = "With images: one gray channel instead of three (RGB).")
  boolean grayscale;

  @Option(
      names = "--test-split",
      paramLabel = "F",
      description =
          "With csv and images: hold out a random fraction F (seeded) as the test set"
              + " (default 0.2); the MNIST family has its own test set.")
  Double testSplit;

  @Option(
      names = "--stream",
      description =
          "With idx:DIR (raw, not .gz): read samples from disk batch by batch on a reader thread"
              + " instead of loading them, for data larger than memory.")
  boolean stream;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Directory with the MNIST data set's IDX files (raw or .gz); default: $MARROW_DATA"
              + " (MNIST only), then the cache, then download. Files that fail verification"
              + " are an error.")
  Path dataDir;

  @Option(
      names = "--cache-dir",
      paramLabel = "DIR",
      description = "Where downloaded files are kept (default: ~/.cache/marrow/<dataset>).")
  Path cacheDir;

  @Option(names = "--offline", description = "Use only --data-dir and the cache; never download.")
  boolean offline;

  /** How the data was given, for run.json: enough to load it again for resume or evaluate. */
  record Settings(
      String data,
      List<String> targets,
      String task,
      String imageSize,
      boolean grayscale,
      Double testSplit,
      boolean stream) {}

  Settings settings() {
    return new Settings(spec(), targets, task, imageSize, grayscale, testSplit, stream);
  }

  /** Takes a run's data settings where the command line gave none. */
  void defaultTo(Settings run) {
    if (run == null || data != null || dataset != null) {
      return;
    }
    data = run.data();
    targets = targets != null ? targets : run.targets();
    task = task != null ? task : run.task();
    imageSize = imageSize != null ? imageSize : run.imageSize();
    grayscale = grayscale || run.grayscale();
    testSplit = testSplit != null ? testSplit : run.testSplit();
    stream = stream || run.stream();
  }

  /** The data spec: --data, else --dataset, else mnist. */
  String spec() {
    if (data != null && dataset != null && !data.equals(dataset)) {
      throw new UserError("give --data or --dataset, not both");
    }
    return data != null ? data : dataset != null ? dataset : "mnist";
  }

  /** Loads the data; {@code seed} draws the test split of data that has none. */
  TrainingData load(PrintWriter log, long seed) {
    String spec = spec();
    if (spec.startsWith("csv:")) {
      requireNoImageOptions(spec);
      return table(Path.of(spec.substring(4)), seed);
    }
    if (spec.startsWith("images:")) {
      requireNoTableOptions(spec);
      return images(Path.of(spec.substring(7)), seed);
    }
    requireNoTableOptions(spec);
    requireNoImageOptions(spec);
    if (testSplit != null) {
      throw new UserError("--test-split: " + spec + " has its own test set");
    }
    DataSource[] split;
    if (stream) {
      if (!spec.startsWith("idx:")) {
        throw new UserError("--stream reads raw IDX files: give --data idx:DIR, not " + spec);
      }
      split = streamIdx(Path.of(spec.substring(4)));
    } else {
      Mnist.Split loaded = digits(spec, log);
      split = new DataSource[] {loaded.train(), loaded.test()};
    }
    return new TrainingData(
        displayName(spec),
        TrainingData.Kind.DIGITS,
        split[0],
        split[1],
        TrainingData.Task.CLASSIFICATION,
        Map.of("source", List.of(spec)));
  }

  // The training and test files read from disk as they are needed (IdxSource); never closed: the
  // run ends with the JVM.
  private static DataSource[] streamIdx(Path dir) {
    requireIdxFiles(dir);
    try {
      return new DataSource[] {
        IdxSource.open(
            MnistFiles.resolve(dir, MnistFiles.File.TRAIN_IMAGES),
            MnistFiles.resolve(dir, MnistFiles.File.TRAIN_LABELS)),
        IdxSource.open(
            MnistFiles.resolve(dir, MnistFiles.File.TEST_IMAGES),
            MnistFiles.resolve(dir, MnistFiles.File.TEST_LABELS))
      };
    } catch (IOException e) {
      throw new UserError("--data idx:" + dir + " --stream: " + e.getMessage(), e);
    }
  }

  private static void requireIdxFiles(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new UserError("--data idx:" + dir + ": no such directory");
    }
    for (MnistFiles.File f : MnistFiles.File.values()) {
      if (!Files.isRegularFile(MnistFiles.resolve(dir, f))) {
        throw new UserError(
            "--data idx:" + dir + ": missing " + f.fileName + " (or " + f.fileName + ".gz)");
      }
    }
  }

  private TrainingData table(Path file, long seed) {
    if (targets == null || targets.isEmpty()) {
      throw new UserError("--data csv:" + file + " needs --target COLUMN (the column to predict)");
    }
    CsvTable.Task kind =
        switch (task == null ? "auto" : task.toLowerCase(Locale.ROOT)) {
          case "auto" -> CsvTable.Task.AUTO;
          case "regression" -> CsvTable.Task.REGRESSION;
          case "classification" -> CsvTable.Task.CLASSIFICATION;
          default ->
              throw new UserError(
                  "unknown --task '" + task + "'; expected regression or classification");
        };
    CsvTable table;
    try {
      table = CsvTable.read(file, targets, kind);
    } catch (IOException e) {
      throw new UserError(e.getMessage(), e);
    }
    Split split = split(table.data(), seed);
    TrainingData.Task t =
        TrainingData.Task.of(table.data().targets(), table.task() == CsvTable.Task.CLASSIFICATION);
    Map<String, List<String>> description = new LinkedHashMap<>();
    description.put("source", List.of("csv"));
    description.put("feature_columns", table.featureColumns());
    description.put("target_columns", table.targetColumns());
    description.put("task", List.of(t.lowerCase()));
    return new TrainingData(
        file.getFileName().toString(),
        TrainingData.Kind.TABLE,
        split.train(),
        split.test(),
        t,
        description);
  }

  private TrainingData images(Path dir, long seed) {
    int[] size = imageSize();
    Dataset all = ImageData.loadFolder(dir, size[0], size[1], grayscale);
    Split split = split(all, seed);
    Map<String, List<String>> description = new LinkedHashMap<>();
    description.put("source", List.of("images"));
    description.put("image_size", List.of(String.valueOf(size[0]), String.valueOf(size[1])));
    description.put("color", List.of(grayscale ? "grayscale" : "rgb"));
    return new TrainingData(
        dir.getFileName() + "/",
        TrainingData.Kind.IMAGES,
        split.train(),
        split.test(),
        TrainingData.Task.CLASSIFICATION,
        description);
  }

  private Split split(DataSource all, long seed) {
    double f = testSplit == null ? 0.2 : testSplit;
    if (!(f > 0 && f < 1)) {
      throw new UserError("--test-split must be in (0, 1), got " + f);
    }
    try {
      return Split.random(all, f, seed);
    } catch (IllegalArgumentException e) {
      throw new UserError("--test-split: " + e.getMessage(), e);
    }
  }

  /** --image-size as (height, width), 28×28 by default. */
  int[] imageSize() {
    if (imageSize == null) {
      return new int[] {28, 28};
    }
    String[] parts = imageSize.split(",");
    try {
      int h = Integer.parseInt(parts[0].trim()),
          w = Integer.parseInt(parts[parts.length - 1].trim());
      if (parts.length > 2 || h < 1 || w < 1 || h > 4096 || w > 4096) {
        throw new NumberFormatException();
      }
      return new int[] {h, w};
    } catch (NumberFormatException e) {
      throw new UserError("--image-size takes H,W in pixels (1 to 4096), got '" + imageSize + "'");
    }
  }

  private void requireNoTableOptions(String spec) {
    if (stream && !spec.startsWith("idx:")) {
      throw new UserError("--stream reads raw IDX files: give --data idx:DIR, not " + spec);
    }
    if (targets != null || task != null) {
      throw new UserError("--target and --task go with --data csv:FILE, not " + spec);
    }
  }

  private void requireNoImageOptions(String spec) {
    if (imageSize != null || grayscale) {
      throw new UserError("--image-size and --grayscale go with --data images:DIR, not " + spec);
    }
  }

  /** The data set's display name, for log lines. */
  static String displayName(String spec) {
    return spec.startsWith("idx:")
        ? spec.substring(4)
        : switch (spec) {
          case "fashion-mnist" -> "Fashion-MNIST";
          default -> "MNIST";
        };
  }

  private Mnist.Split digits(String spec, PrintWriter log) {
    if (spec.startsWith("idx:")) {
      return loadIdx(Path.of(spec.substring(4)));
    }
    MnistFiles.Source source =
        switch (spec) {
          case "mnist" -> MnistFiles.Source.MNIST;
          case "fashion-mnist" -> MnistFiles.Source.FASHION_MNIST;
          default ->
              throw new UserError(
                  "unknown --data '"
                      + spec
                      + "'; expected csv:FILE, images:DIR, idx:DIR, mnist or fashion-mnist");
        };
    Path dir =
        dataDir != null
            ? dataDir
            : source == MnistFiles.Source.MNIST ? MnistFiles.dataDirFromEnvironment() : null;
    Path cache = cacheDir != null ? cacheDir : MnistFiles.defaultCacheDir(source);
    java.util.function.Consumer<String> notes =
        note -> {
          log.println("marrow: " + note);
          log.flush();
        };
    try {
      MnistFiles files =
          offline
              ? MnistFiles.offline(source, dir, cache, notes)
              : new MnistFiles(source, dir, cache, notes);
      return Mnist.load(files.locate());
    } catch (IOException e) {
      throw new UserError((dataDir != null ? "--data-dir " : "") + e.getMessage(), e);
    }
  }

  // Any four IDX files laid out like MNIST's: no checksum, but every header is validated.
  private static Mnist.Split loadIdx(Path dir) {
    requireIdxFiles(dir);
    try {
      return Mnist.load(dir);
    } catch (IOException e) {
      throw new UserError("--data idx:" + dir + ": " + e.getMessage(), e);
    }
  }
}
