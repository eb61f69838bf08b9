package dev.marrow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.data.ImageAugmentation;
import dev.marrow.engine.io.AtomicFiles;
import dev.marrow.engine.io.Checkpoint;
import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.metrics.Metrics;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Layer;
import dev.marrow.engine.nn.Normalization;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.optim.Optimizer;
import dev.marrow.engine.optim.Sgd;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.Evaluation;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.Trainer;
import dev.marrow.engine.train.callbacks.CsvLogger;
import dev.marrow.engine.train.callbacks.EarlyStopping;
import dev.marrow.engine.train.callbacks.LearningRateSchedule;
import dev.marrow.engine.train.callbacks.ModelCheckpoint;
import dev.marrow.engine.train.callbacks.Monitor;
import dev.marrow.engine.train.callbacks.ProgressLogger;
import dev.marrow.engine.train.callbacks.ReduceLROnPlateau;
import dev.marrow.engine.train.callbacks.TensorBoard;
import dev.marrow.models.zoo.ModelSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code marrow train}: trains a zoo model (or an architecture file) on MNIST, a CSV table or an
 * image folder, and writes a run folder.
 */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Train a model on MNIST (downloaded and checksummed on first use), a CSV table or"
            + " a folder of images.")
final class TrainCommand implements Callable<Integer> {
  private static final List<String> SCHEDULES =
      List.of("step", "exponential", "cosine", "cosine-per-step", "constant");
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      paramLabel = "NAME",
      description = "Model: ${COMPLETION-CANDIDATES}.",
      completionCandidates = ModelNames.class)
  String model;

  @Option(
      names = "--epochs",
      paramLabel = "N",
      description =
          "Total epochs (default: the tutorial's: 5 for mlp, mlp-dropout, cnn, lenet5;"
              + " 3 for simple-cnn and vgg; 30 for nielsen).")
  Integer epochs;

  @Option(
      names = "--batch-size",
      paramLabel = "B",
      description =
          "Batch size (default: the tutorial's: 32 for mlp and simple-cnn, 10 for"
              + " nielsen, 64 for resnet, 128 for the others).")
  Integer batchSize;

  @Option(
      names = "--optimizer",
      paramLabel = "NAME",
      description = "adam or sgd (default: the tutorial's).")
  String optimizer;

  @Option(
      names = "--lr",
      paramLabel = "X",
      description =
          "Learning rate (default: the tutorial's: 1e-3 for Adam, 2e-3 for resnet, 3.0 for nielsen).")
  Double learningRate;

  @Option(names = "--momentum", paramLabel = "M", description = "SGD momentum (default: 0).")
  Double momentum;

  @Option(
      names = "--lr-schedule",
      paramLabel = "KIND",
      description =
          "step (halve every 2 epochs), exponential (×0.9 per epoch), cosine (per epoch, to 0"
              + " over the run), cosine-per-step (decayed before every step, towards 0)"
              + " or constant (default: the model's; vgg uses cosine, resnet cosine-per-step).")
  String lrSchedule;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description = "Seed for initialisation, shuffling and dropout (default: the model's).")
  Long seed;

  @Option(
      names = "--validation-split",
      paramLabel = "F",
      description =
          "Hold out this last fraction of the training set for validation" + " (default: 0).")
  Double validationSplit;

  @Option(
      names = "--early-stopping",
      paramLabel = "PATIENCE",
      description =
          "Stop after PATIENCE epochs without improvement of val_loss (loss without"
              + " validation data) and restore the best weights.")
  Integer earlyStopping;

  @Option(
      names = "--monitor",
      paramLabel = "NAME",
      description =
          "What --early-stopping, --reduce-lr-on-plateau and --checkpoint best watch: loss or"
              + " any metric (accuracy, mae, rmse, auc, …), val_ prefixed for validation data"
              + " (default: val_loss with --validation-split, else loss).")
  String monitorName;

  @Option(
      names = "--reduce-lr-on-plateau",
      description = "Halve the learning rate after 2 epochs without improvement (min 1e-6).")
  boolean reduceLrOnPlateau;

  @Option(
      names = "--checkpoint",
      paramLabel = "WHEN",
      defaultValue = "every-epoch",
      description =
          "every-epoch (default: checkpoint.safetensors after each epoch, for"
              + " --resume) or best (also best.safetensors when the monitored metric improves).")
  String checkpoint;

  @Option(
      names = "--resume",
      paramLabel = "RUN_DIR",
      description =
          "Continue the run in RUN_DIR from its last checkpoint, with its settings;"
              + " --epochs may raise the total.")
  Path resume;

  @Mixin DeviceOptions device = new DeviceOptions();

  @Option(
      names = "--threads",
      paramLabel = "T",
      description = "CPU threads (default: all processors).")
  Integer threads;

  @Mixin DataOptions data;

  @Option(
      names = "--augment",
      paramLabel = "KINDS",
      description =
          "Augment training images on the fly, seeded: any of crop (pad by H/8, crop back),"
              + " flip (left-right), shift (up to 10%%), comma-separated.")
  String augment;

  @Option(
      names = "--model-file",
      paramLabel = "ARCH.json",
      description =
          "Train the architecture in this file (a model.json as 'marrow train' writes it, or"
              + " written by hand) instead of a zoo model.")
  Path modelFile;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      description = "Run folder (default: runs/<model>-<timestamp>).")
  Path out;

  @Option(
      names = "--tensorboard",
      paramLabel = "DIR",
      description =
          "Write TensorBoard logs to DIR/train and DIR/validation, as Keras'"
              + " TensorBoard callback.")
  Path tensorboard;

  @Option(
      names = "--tensorboard-histogram-freq",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "With --tensorboard: weight and gradient histograms every N epochs, 0 for"
              + " none (default: 1).")
  int tensorboardHistogramFreq;

  @Option(names = "--no-progress", description = "Do not draw a progress bar.")
  boolean noProgress;

  @Option(
      names = "--no-plots",
      description = "Do not draw curves.png, confusion.png, samples.png, model.png.")
  boolean noPlots;

  /**
   * The settings of a run, kept in run.json so that --resume continues with the same ones (and
   * evaluate, predict and plot read the same data). {@code dataset} is the data spec of runs made
   * before {@code data} existed.
   */
  record RunSettings(
      String model,
      String modelFile,
      String dataset,
      DataOptions.Settings data,
      String augment,
      int epochs,
      int batchSize,
      String optimizer,
      double learningRate,
      double momentum,
      String lrSchedule,
      long seed,
      double validationSplit,
      Integer earlyStopping,
      boolean reduceLrOnPlateau,
      String checkpoint,
      int threads) {}

  @Override
  public Integer call() throws IOException {
    Path runDir;
    RunSettings s;
    if (resume != null) {
      runDir = resume;
      s = resumedSettings(resume);
    } else {
      if (model == null && modelFile == null) {
        throw new UserError("--model NAME or --model-file ARCH.json is required (or --resume)");
      }
      if (model != null && modelFile != null) {
        throw new UserError("give --model or --model-file, not both");
      }
      s = newSettings(ModelNames.lookup(model == null ? "mlp" : model));
      runDir =
          out != null
              ? out
              : Path.of(
                  "runs",
                  runName(s)
                      + "-"
                      + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }
    ModelSpec m = ModelNames.lookup(s.model());
    TensorBoard board = tensorBoard();
    PrintWriter stdout = spec.commandLine().getOut();
    TrainingData d = data.load(spec.commandLine().getErr(), s.seed());
    ImageAugmentation augmentation = augmentation(s.augment(), d);

    Graph net = network(m, s, d);
    boolean tutorial = s.modelFile() == null && d.isDigits() && d.outputs() == 10;
    Loss loss = tutorial ? m.loss().get() : d.task().loss();
    List<String> metrics = tutorial ? null : d.task().metrics();
    Optimizer optim =
        switch (s.optimizer()) {
          case "adam" -> new Adam(s.learningRate());
          case "sgd" -> new Sgd(s.learningRate(), s.momentum(), false, 0);
          default ->
              throw new UserError(
                  "unknown --optimizer '" + s.optimizer() + "'; expected adam or sgd");
        };
    Monitor.Quantity monitor = monitor(s, loss, metrics, d); // before anything opens or is written
    try (Backend backend = device.open(s.threads(), spec.commandLine().getErr())) {
      Trainer trainer;
      try {
        trainer = new Trainer(net, optim, loss, backend, metrics);
      } catch (IllegalArgumentException e) {
        throw new UserError(e.getMessage(), e);
      }
      // The run folder is created only now: bad flags, bad data or a missing device leave
      // nothing behind.
      if (resume == null) {
        prepareRunDir(runDir);
        AtomicFiles.write(runDir.resolve("run.json"), JSON.writeValueAsBytes(s));
      }
      Path checkpointFile = runDir.resolve(Checkpoint.FILE);
      int done = 0;
      if (resume != null) {
        try {
          done = Checkpoint.restore(checkpointFile, net, optim).epoch();
        } catch (IOException e) {
          throw new UserError("--resume " + resume + ": " + e.getMessage(), e);
        }
        stdout.printf("marrow: resuming %s after epoch %d of %d%n", runName(s), done, s.epochs());
      }
      stdout.printf(
          "marrow: training %s on %s (%,d train, %,d test, %s) - device %s, %d threads,"
              + " batch %d, %s, seed %d%n",
          runName(s),
          d.name(),
          d.train().size(),
          d.test().size(),
          d.task().lowerCase(),
          backend.name(),
          backend.threads(),
          s.batchSize(),
          optim.describe(),
          s.seed());
      stdout.flush();
      boolean terminal = System.console() != null && System.console().isTerminal();
      StartupClock startup = new StartupClock();
      FitOptions fit =
          FitOptions.defaults()
              .verbose(ProgressLogger.Verbosity.SILENT)
              .epochs(s.epochs())
              .batchSize(s.batchSize())
              .seed(s.seed())
              .validationSplit(s.validationSplit())
              .initialEpoch(done)
              .augmentation(augmentation)
              .callback(startup)
              .callback(new ProgressCallback(stdout, terminal && !noProgress))
              .callback(new CsvLogger(runDir.resolve("history.csv"), resume != null));
      addCallbacks(fit, s, monitor, runDir);
      if (board != null) {
        fit.callback(board);
      }
      Map<String, String> meta = Map.of("model", runName(s), "marrow", Main.VERSION);
      fit.callback(new ModelCheckpoint(checkpointFile, monitor, false, s.seed(), meta));
      try {
        trainer.fit(d.train(), fit);
      } catch (IllegalArgumentException e) {
        throw new UserError(e.getMessage(), e); // data that does not fit the model
      }

      Evaluation test = trainer.evaluate(d.test());
      ModelFiles.save(net, runDir, meta);
      List<EpochStats> history = PlotCommand.readHistory(runDir.resolve("history.csv"));
      RunFolder.writeMetrics(
          runDir,
          new RunFolder.MetricsJson(
              runName(s),
              backend.name(),
              backend.threads(),
              s.seed(),
              RunFolder.epochs(history),
              test.loss(),
              Double.isNaN(test.accuracy()) ? null : test.accuracy(),
              test.metrics(),
              history.stream().mapToDouble(EpochStats::seconds).sum(),
              startup.seconds(),
              s.batchSize(),
              optim.describe(),
              loss.name(),
              d.task().lowerCase(),
              s.validationSplit(),
              Runtime.version().toString(),
              Main.VERSION));
      RunModel run = RunModel.of(net, trainer);
      if (!noPlots) {
        PlotCommand.drawAll(runDir, history, run, d, spec.commandLine().getErr());
      }
      stdout.printf("run folder: %s%n", runDir);
      stdout.println(testLine(test));
      stdout.flush();
    }
    return 0;
  }

  /** {@code test_accuracy=… test_loss=…} for classifiers, {@code test_loss=… test_mae=…} else. */
  static String testLine(Evaluation test) {
    StringBuilder line = new StringBuilder();
    if (!Double.isNaN(test.accuracy())) {
      line.append(String.format(Locale.ROOT, "test_accuracy=%.4f ", test.accuracy()));
    }
    line.append(String.format(Locale.ROOT, "test_loss=%.4f", test.loss()));
    test.metrics()
        .forEach(
            (name, value) -> {
              if (!name.equals("accuracy")) {
                line.append(String.format(Locale.ROOT, " test_%s=%.4f", name, value));
              }
            });
    return line.toString();
  }

  /** --monitor, checked against what the epochs will log; val_loss or loss by default. */
  private Monitor.Quantity monitor(RunSettings s, Loss loss, List<String> metrics, TrainingData d) {
    String name = monitorName != null ? monitorName : s.validationSplit() > 0 ? "val_loss" : "loss";
    List<String> logged = new java.util.ArrayList<>(List.of("loss"));
    int units = d.outputs();
    try {
      (metrics == null
              ? Metrics.defaults(loss, units, d.targets().isClasses())
              : Metrics.byNames(metrics, loss, units))
          .forEach(metric -> logged.add(metric.name()));
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
    if (s.validationSplit() > 0) {
      List.copyOf(logged).forEach(n -> logged.add("val_" + n));
    }
    if (!logged.contains(name)) {
      throw new UserError(
          "--monitor "
              + name
              + ": this run logs "
              + logged
              + (name.startsWith("val_") && s.validationSplit() == 0
                  ? " (val_ quantities need --validation-split)"
                  : ""));
    }
    return Monitor.of(name);
  }

  private static String runName(RunSettings s) {
    if (s.modelFile() == null) {
      return s.model();
    }
    String file = Path.of(s.modelFile()).getFileName().toString();
    return file.endsWith(".json") ? file.substring(0, file.length() - 5) : file;
  }

  /** The zoo model (adapted to the data) or the --model-file architecture, built and named. */
  private static Graph network(ModelSpec m, RunSettings s, TrainingData d) {
    Graph net;
    try {
      if (s.modelFile() != null) {
        net = ArchitectureFile.read(Path.of(s.modelFile()), d, s.seed());
      } else {
        net = m.build(s.seed(), d.sampleShape(), d.outputs());
      }
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
    for (Layer layer : net.layers()) {
      if (layer instanceof Normalization norm && norm.inputShape().equals(d.sampleShape())) {
        norm.adapt(d.train()); // standardisation fitted on the training split only
      }
    }
    if (!d.targets().classNames().isEmpty()) {
      try {
        net.setClassNames(d.targets().classNames());
      } catch (IllegalArgumentException e) {
        throw new UserError(e.getMessage(), e);
      }
    }
    net.setDataDescription(d.description());
    return net;
  }

  private static ImageAugmentation augmentation(String kinds, TrainingData d) {
    if (kinds == null) {
      return null;
    }
    if (d.sampleShape().rank() != 3) {
      throw new UserError(
          "--augment works on images; " + d.name() + " has samples of shape " + d.sampleShape());
    }
    try {
      return ImageAugmentation.parse(kinds);
    } catch (IllegalArgumentException e) {
      throw new UserError("--augment: " + e.getMessage(), e);
    }
  }

  private void addCallbacks(FitOptions fit, RunSettings s, Monitor.Quantity monitor, Path runDir) {
    if (s.earlyStopping() != null) {
      fit.callback(new EarlyStopping(monitor, s.earlyStopping(), true));
    }
    if (s.reduceLrOnPlateau()) {
      fit.callback(new ReduceLROnPlateau(monitor, 0.5, 2, 1e-6, 0));
    }
    if (s.lrSchedule() != null && !s.lrSchedule().equals("constant")) {
      fit.callback(
          switch (s.lrSchedule()) {
            case "step" -> LearningRateSchedule.step(s.learningRate(), 0.5, 2);
            case "exponential" -> LearningRateSchedule.exponential(s.learningRate(), 0.9);
            case "cosine" -> LearningRateSchedule.cosine(s.learningRate(), 0, s.epochs());
            case "cosine-per-step" -> LearningRateSchedule.cosineDecay(s.learningRate(), 0);
            default ->
                throw new UserError(
                    "unknown --lr-schedule '"
                        + s.lrSchedule()
                        + "'; expected "
                        + String.join(", ", SCHEDULES));
          });
    }
    if (s.checkpoint().equals("best")) {
      fit.callback(
          new ModelCheckpoint(
              runDir.resolve("best.safetensors"),
              monitor,
              true,
              s.seed(),
              Map.of("model", s.model())));
    }
  }

  // Checked with the other flags, before any data is loaded or any folder made.
  private TensorBoard tensorBoard() {
    if (tensorboardHistogramFreq < 0) {
      throw new UserError(
          "--tensorboard-histogram-freq must be >= 0, got " + tensorboardHistogramFreq);
    }
    return tensorboard == null
        ? null
        : new TensorBoard(tensorboard, tensorboardHistogramFreq, "epoch");
  }

  private RunSettings newSettings(ModelSpec m) {
    int epochCount = positive("--epochs", epochs, m.epochs());
    int batch = positive("--batch-size", batchSize, m.batchSize());
    int threadCount = positive("--threads", threads, Runtime.getRuntime().availableProcessors());
    double lr = learningRate == null ? m.learningRate() : learningRate;
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw new UserError("--lr must be a positive number, got " + lr);
    }
    double split = validationSplit == null ? 0 : validationSplit;
    if (!(split >= 0 && split < 1)) {
      throw new UserError("--validation-split must be in [0, 1), got " + split);
    }
    double mom = momentum == null ? 0 : momentum;
    if (!(mom >= 0 && mom < 1)) {
      throw new UserError("--momentum must be in [0, 1), got " + mom);
    }
    if (earlyStopping != null && earlyStopping < 0) {
      throw new UserError("--early-stopping must be >= 0 epochs, got " + earlyStopping);
    }
    if (!checkpoint.equals("every-epoch") && !checkpoint.equals("best")) {
      throw new UserError("--checkpoint must be every-epoch or best, got '" + checkpoint + "'");
    }
    if (lrSchedule != null && !SCHEDULES.contains(lrSchedule)) {
      throw new UserError(
          "unknown --lr-schedule '" + lrSchedule + "'; expected " + String.join(", ", SCHEDULES));
    }
    String opt = (optimizer == null ? m.optimizer() : optimizer).toLowerCase(Locale.ROOT);
    if (!opt.equals("adam") && !opt.equals("sgd")) {
      throw new UserError("unknown --optimizer '" + optimizer + "'; expected adam or sgd");
    }
    String schedule = lrSchedule != null ? lrSchedule : m.lrSchedule();
    if (augment != null) {
      try {
        ImageAugmentation.parse(augment);
      } catch (IllegalArgumentException e) {
        throw new UserError("--augment: " + e.getMessage(), e);
      }
    }
    return new RunSettings(
        m.name(),
        modelFile == null ? null : modelFile.toAbsolutePath().toString(),
        null,
        data.settings(),
        augment,
        epochCount,
        batch,
        opt,
        lr,
        mom,
        schedule,
        seed == null ? m.seed() : seed,
        split,
        earlyStopping,
        reduceLrOnPlateau,
        checkpoint,
        threadCount);
  }

  private RunSettings resumedSettings(Path dir) {
    Path file = dir.resolve("run.json");
    if (!Files.isRegularFile(file)) {
      throw new UserError("--resume " + dir + ": no run.json (not a run folder)");
    }
    if (model != null
        || batchSize != null
        || optimizer != null
        || learningRate != null
        || seed != null
        || validationSplit != null
        || modelFile != null
        || augment != null) {
      throw new UserError(
          "--resume continues a run with its own settings; only --epochs,"
              + " --threads, --device and the data options may be given");
    }
    RunSettings s;
    try {
      JsonNode node = JSON.readTree(file.toFile());
      s = JSON.treeToValue(node, RunSettings.class);
    } catch (IOException e) {
      throw new UserError("--resume " + dir + ": run.json is unreadable: " + e.getMessage(), e);
    }
    int total = positive("--epochs", epochs, s.epochs());
    data.defaultTo(
        s.data() != null
            ? s.data()
            : new DataOptions.Settings(
                s.dataset() == null ? "mnist" : s.dataset(), null, null, null, false, null, false));
    return new RunSettings(
        s.model(),
        s.modelFile(),
        null,
        data.settings(),
        s.augment(),
        total,
        s.batchSize(),
        s.optimizer(),
        s.learningRate(),
        s.momentum(),
        s.lrSchedule(),
        s.seed(),
        s.validationSplit(),
        s.earlyStopping(),
        s.reduceLrOnPlateau(),
        s.checkpoint(),
        threads == null ? s.threads() : threads);
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
