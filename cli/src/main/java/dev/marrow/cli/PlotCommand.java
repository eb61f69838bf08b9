package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.train.EpochStats;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code marrow plot RUN_DIR}: redraws curves.png, confusion.png, samples.png and model.png. */
@Command(
    name = "plot",
    mixinStandardHelpOptions = true,
    description =
        "Redraw a run folder's pictures: curves.png, model.png, and confusion.png and"
            + " samples.png (classifiers) or regression.png (regression).")
final class PlotCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin DeviceOptions device = new DeviceOptions();

  @Parameters(paramLabel = "RUN_DIR", description = "A run folder written by 'marrow train'.")
  Path runDir;

  @Mixin DataOptions data;

  @Override
  public Integer call() throws IOException {
    Path csv = runDir.resolve("history.csv");
    if (!Files.isRegularFile(csv)) {
      throw new UserError(runDir + " holds no history.csv: not a run folder");
    }
    data.defaultTo(RunData.settings(runDir));
    TrainingData d = data.load(spec.commandLine().getErr(), RunData.seed(runDir));
    try (Backend backend =
        device.open(Runtime.getRuntime().availableProcessors(), spec.commandLine().getErr())) {
      RunModel run = RunModel.load(runDir, backend);
      List<String> drawn = drawAll(runDir, readHistory(csv), run, d, spec.commandLine().getErr());
      spec.commandLine().getOut().println("wrote " + String.join(", ", drawn) + " in " + runDir);
    }
    return 0;
  }

  /**
   * Every picture of a run folder that fits its task: curves of every metric, the model graph, and
   * the confusion matrix and sample images of a classifier or the scatter and residuals of a
   * regression model. A notice goes to {@code err} if Graphviz failed. Returns the files drawn.
   */
  static List<String> drawAll(
      Path dir, List<EpochStats> history, RunModel run, TrainingData data, PrintWriter err)
      throws IOException {
    List<String> drawn = new ArrayList<>(List.of("curves.png"));
    Plots.curves(dir.resolve("curves.png"), history);
    List<String> names = run.model.classNames();
    switch (run.task()) {
      case CLASSIFICATION -> {
        RunModel.Predictions p = run.predictAll(data.test());
        Plots.confusion(dir.resolve("confusion.png"), p.confusion(), names);
        drawn.add("confusion.png");
        if (data.sampleShape().rank() == 3) {
          Plots.samples(dir.resolve("samples.png"), data.test(), p, names);
          drawn.add("samples.png");
        }
      }
      case REGRESSION -> {
        Plots.regression(
            dir.resolve("regression.png"),
            run.valuesAll(data.test()),
            run.model.dataDescription().getOrDefault("target_columns", List.of()));
        drawn.add("regression.png");
      }
      case MULTI_LABEL -> {} // curves carry binary accuracy and AUC
    }
    ModelPlot.Drawn graph = ModelPlot.write(run.model, dir.resolve("model.png"));
    drawn.add("model.png");
    if (graph.dotFailed()) {
      err.println("marrow: model.png laid out by " + graph.how());
      err.flush();
    }
    return drawn;
  }

  /** history.csv as CsvLogger writes it: epoch, loss, metrics, val_ columns, timing. */
  static List<EpochStats> readHistory(Path csv) {
    List<EpochStats> out = new ArrayList<>();
    try {
      List<String> lines = Files.readAllLines(csv);
      if (lines.isEmpty()) {
        return out;
      }
      String[] header = lines.get(0).split(",", -1);
      for (int i = 1; i < lines.size(); i++) {
        String[] f = lines.get(i).split(",", -1);
        if (f.length != header.length) {
          throw new UserError(
              csv
                  + " line "
                  + (i + 1)
                  + ": expected "
                  + header.length
                  + " fields, got "
                  + f.length);
        }
        Map<String, Double> logs = new LinkedHashMap<>();
        for (int c = 1; c < header.length - 3; c++) {
          if (!f[c].isEmpty()) {
            logs.put(header[c], Double.parseDouble(f[c]));
          }
        }
        int last = header.length - 1;
        out.add(
            new EpochStats(
                Integer.parseInt(f[0]),
                logs,
                Double.parseDouble(f[last - 2]),
                Double.parseDouble(f[last - 1]),
                Double.parseDouble(f[last])));
      }
    } catch (IOException | NumberFormatException e) {
      throw new UserError("cannot read " + csv + ": " + e.getMessage(), e);
    }
    return out;
  }
}
