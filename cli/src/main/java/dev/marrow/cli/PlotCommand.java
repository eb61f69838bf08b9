package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.models.mnist.Mnist;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        "Redraw a run folder's pictures: curves.png, confusion.png, samples.png, model.png.")
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
    Mnist.Split mnist = data.load(spec.commandLine().getErr());
    try (Backend backend =
        device.open(Runtime.getRuntime().availableProcessors(), spec.commandLine().getErr())) {
      RunModel run = RunModel.load(runDir, backend);
      drawAll(runDir, readHistory(csv), run, mnist, spec.commandLine().getErr());
    }
    spec.commandLine()
        .getOut()
        .println("wrote curves.png, confusion.png, samples.png, model.png in " + runDir);
    return 0;
  }

  /** Every picture of a run folder; a notice goes to {@code err} if Graphviz failed. */
  static void drawAll(
      Path dir, List<EpochStats> history, RunModel run, Mnist.Split mnist, PrintWriter err)
      throws IOException {
    Plots.curves(dir.resolve("curves.png"), history);
    RunModel.Predictions p = run.predictAll(mnist.test());
    Plots.confusion(dir.resolve("confusion.png"), p.confusion());
    Plots.samples(dir.resolve("samples.png"), mnist.test(), p.predicted(), p.confidence());
    ModelPlot.Drawn drawn = ModelPlot.write(run.model, dir.resolve("model.png"));
    if (drawn.dotFailed()) {
      err.println("marrow: model.png laid out by " + drawn.how());
      err.flush();
    }
  }

  static List<EpochStats> readHistory(Path csv) {
    List<EpochStats> out = new ArrayList<>();
    try {
      List<String> lines = Files.readAllLines(csv);
      for (int i = 1; i < lines.size(); i++) {
        String[] f = lines.get(i).split(",", -1);
        if (f.length < 8) {
          throw new UserError(csv + " line " + (i + 1) + ": expected 8 fields, got " + f.length);
        }
        out.add(
            new EpochStats(
                Integer.parseInt(f[0]),
                Double.parseDouble(f[1]),
                Double.parseDouble(f[2]),
                f[3].isEmpty() ? Double.NaN : Double.parseDouble(f[3]),
                f[4].isEmpty() ? Double.NaN : Double.parseDouble(f[4]),
                Double.parseDouble(f[5]),
                Double.parseDouble(f[6]),
                Double.parseDouble(f[7])));
      }
    } catch (IOException | NumberFormatException e) {
      throw new UserError("cannot read " + csv + ": " + e.getMessage(), e);
    }
    return out;
  }
}
