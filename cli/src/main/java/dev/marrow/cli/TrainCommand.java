package dev.marrow.cli;

import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.optim.Optimizer;
import dev.marrow.engine.optim.Sgd;
import dev.marrow.engine.train.Evaluation;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.History;
import dev.marrow.engine.train.Trainer;
import dev.marrow.models.mnist.Mnist;
import dev.marrow.models.mnist.MnistFiles;
import dev.marrow.models.zoo.ModelSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code marrow train}: trains a zoo model on MNIST and writes a run folder. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Train a model on MNIST (downloaded and checksummed on first use).")
final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "NAME",
      description = "Model: ${COMPLETION-CANDIDATES}.", completionCandidates = ModelNames.class)
  String model;

  @Option(names = "--epochs", paramLabel = "N",
      description = "Epochs (default: the tutorial's: 5 for mlp, mlp-dropout, cnn, lenet5; 3 for"
          + " simple-cnn and vgg; 30 for nielsen).")
  Integer epochs;

  @Option(names = "--batch-size", paramLabel = "B",
      description = "Batch size (default: the tutorial's: 32 for mlp and simple-cnn, 10 for"
          + " nielsen, 128 for the others).")
  Integer batchSize;

  @Option(names = "--optimizer", paramLabel = "NAME",
      description = "adam or sgd (default: the tutorial's).")
  String optimizer;

  @Option(names = "--lr", paramLabel = "X",
      description = "Learning rate (default: the tutorial's: 1e-3 for Adam, 3.0 for nielsen).")
  Double learningRate;

  @Option(names = "--momentum", paramLabel = "M", defaultValue = "0",
      description = "SGD momentum (default: ${DEFAULT-VALUE}).")
  double momentum;

  @Option(names = "--seed", paramLabel = "S",
      description = "Seed for initialisation, shuffling and dropout (default: the model's).")
  Long seed;

  @Option(names = "--validation-split", paramLabel = "F", defaultValue = "0",
      description = "Hold out this last fraction of the training set for validation"
          + " (default: ${DEFAULT-VALUE}).")
  double validationSplit;

  @Option(names = "--threads", paramLabel = "T",
      description = "CPU threads (default: all processors).")
  Integer threads;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Directory with the MNIST IDX files (raw or .gz); default: $MARROW_DATA,"
          + " then the cache, then download.")
  Path dataDir;

  @Option(names = "--cache-dir", paramLabel = "DIR",
      description = "Where downloaded MNIST files are kept (default: ~/.cache/marrow/mnist).")
  Path cacheDir;

  @Option(names = "--offline",
      description = "Use only --data-dir and the cache; never download.")
  boolean offline;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Run folder (default: runs/<model>-<timestamp>).")
  Path out;

  @Option(names = "--no-progress", description = "Do not draw a progress bar.")
  boolean noProgress;

  @Override
  public Integer call() throws IOException {
    ModelSpec m = ModelNames.lookup(model);
    int epochCount = positive("--epochs", epochs, m.epochs());
    int batch = positive("--batch-size", batchSize, m.batchSize());
    int threadCount = positive("--threads", threads, Runtime.getRuntime().availableProcessors());
    double lr = learningRate == null ? m.learningRate() : learningRate;
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw new UserError("--lr must be a positive number, got " + lr);
    }
    if (!(validationSplit >= 0 && validationSplit < 1)) {
      throw new UserError("--validation-split must be in [0, 1), got " + validationSplit);
    }
    if (!(momentum >= 0 && momentum < 1)) {
      throw new UserError("--momentum must be in [0, 1), got " + momentum);
    }
    String opt = (optimizer == null ? m.optimizer() : optimizer).toLowerCase(Locale.ROOT);
    long runSeed = seed == null ? m.seed() : seed;
    Path runDir = out != null ? out : Path.of("runs", m.name() + "-"
        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    prepareRunDir(runDir);

    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter stderr = spec.commandLine().getErr();
    Mnist.Split data = loadMnist(stderr);

    Sequential net = m.build(runSeed);
    Optimizer optim = switch (opt) {
      case "adam" -> new Adam(lr);
      case "sgd" -> new Sgd(lr, momentum, false, 0);
      default -> throw new UserError("unknown --optimizer '" + optimizer + "'; expected adam or sgd");
    };
    Loss loss = m.loss().get();
    try (CpuBackend backend = new CpuBackend(threadCount)) {
      stdout.printf("marrow: training %s on MNIST (%,d train, %,d test) - device %s, %d threads,"
              + " batch %d, %s, seed %d%n", m.name(), data.train().size(), data.test().size(),
          backend.name(), backend.threads(), batch, optim.describe(), runSeed);
      stdout.flush();
      Trainer trainer = new Trainer(net, optim, loss, backend);
      boolean terminal = System.console() != null && System.console().isTerminal();
      FitOptions fit = FitOptions.defaults().epochs(epochCount).batchSize(batch).seed(runSeed)
          .validationSplit(validationSplit)
          .callback(new ProgressCallback(stdout, terminal && !noProgress));
      History history = trainer.fit(data.train(), fit);
      Evaluation test = trainer.evaluate(data.test());
      RunFolder.write(runDir, new RunFolder.MetricsJson(m.name(), backend.name(),
          backend.threads(), runSeed, RunFolder.epochs(history), test.loss(), test.accuracy(),
          history.trainSeconds(), batch, optim.describe(), loss.name(), validationSplit,
          Runtime.version().toString(), "0.1.0-SNAPSHOT"), history);
      stdout.printf("run folder: %s%n", runDir);
      stdout.printf(Locale.ROOT, "test_accuracy=%.4f test_loss=%.4f%n", test.accuracy(),
          test.loss());
      stdout.flush();
    }
    return 0;
  }

  private Mnist.Split loadMnist(PrintWriter log) {
    Path dir = dataDir != null ? dataDir : MnistFiles.dataDirFromEnvironment();
    Path cache = cacheDir != null ? cacheDir : MnistFiles.defaultCacheDir();
    java.util.function.Consumer<String> notes = note -> {
      log.println("marrow: " + note);
      log.flush();
    };
    try {
      MnistFiles files = offline ? MnistFiles.offline(dir, cache, notes)
          : new MnistFiles(dir, cache, notes);
      return Mnist.load(files.locate());
    } catch (IOException e) {
      throw new UserError(e.getMessage(), e);
    }
  }

  private static void prepareRunDir(Path dir) {
    try {
      Files.createDirectories(dir);
      if (!Files.isWritable(dir)) {
        throw new UserError("--out " + dir + " is not writable");
      }
    } catch (IOException e) {
      throw new UserError("cannot create run folder --out " + dir + ": " + e.getMessage(), e);
    }
  }

  private static int positive(String flag, Integer value, int fallback) {
    if (value == null) {
      return fallback;
    }
    if (value < 1) {
      throw new UserError(flag + " must be at least 1, got " + value);
    }
    return value;
  }
}
