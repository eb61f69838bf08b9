package dev.marrow.cli;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.models.mnist.Mnist;
import dev.marrow.models.mnist.MnistFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the data comes from: shared by train, evaluate and plot. */
final class DataOptions {
  @Option(
      names = "--dataset",
      paramLabel = "NAME",
      defaultValue = "mnist",
      description =
          "mnist (default), fashion-mnist, or idx:DIR for any four MNIST-style IDX files"
              + " (raw or .gz) of 28×28 images in 10 classes.")
  String dataset;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Directory with the data set's IDX files (raw or .gz); default: $MARROW_DATA"
              + " (MNIST only), then the cache, then download.")
  Path dataDir;

  @Option(
      names = "--cache-dir",
      paramLabel = "DIR",
      description = "Where downloaded files are kept (default: ~/.cache/marrow/<dataset>).")
  Path cacheDir;

  @Option(names = "--offline", description = "Use only --data-dir and the cache; never download.")
  boolean offline;

  /** The data set's display name, for log lines. */
  String displayName() {
    return dataset.startsWith("idx:")
        ? dataset.substring(4)
        : switch (dataset) {
          case "fashion-mnist" -> "Fashion-MNIST";
          default -> "MNIST";
        };
  }

  Mnist.Split load(PrintWriter log) {
    if (dataset.startsWith("idx:")) {
      return loadIdx(Path.of(dataset.substring(4)));
    }
    MnistFiles.Source source =
        switch (dataset) {
          case "mnist" -> MnistFiles.Source.MNIST;
          case "fashion-mnist" -> MnistFiles.Source.FASHION_MNIST;
          default ->
              throw new UserError(
                  "unknown --dataset '" + dataset + "'; expected mnist, fashion-mnist or idx:DIR");
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
      throw new UserError(e.getMessage(), e);
    }
  }

  // Any four IDX files laid out like MNIST's: no checksum, but every header is validated.
  private static Mnist.Split loadIdx(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new UserError("--dataset idx:" + dir + ": no such directory");
    }
    for (MnistFiles.File f : MnistFiles.File.values()) {
      if (!Files.isRegularFile(MnistFiles.resolve(dir, f))) {
        throw new UserError(
            "--dataset idx:" + dir + ": missing " + f.fileName + " (or " + f.fileName + ".gz)");
      }
    }
    try {
      Mnist.Split split = Mnist.load(dir);
      Shape expected = Shape.of(1, 28, 28);
      if (!split.train().sampleShape().equals(expected)
          || !split.test().sampleShape().equals(expected)) {
        throw new UserError(
            "--dataset idx:"
                + dir
                + ": images are "
                + split.train().sampleShape()
                + "; the zoo's models take 28×28 images");
      }
      return split;
    } catch (IOException e) {
      throw new UserError("--dataset idx:" + dir + ": " + e.getMessage(), e);
    }
  }
}
