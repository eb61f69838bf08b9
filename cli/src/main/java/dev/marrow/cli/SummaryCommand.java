package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.train.Plan;
import dev.marrow.models.zoo.ModelSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code marrow summary --model NAME [--plot FILE.png]}: layers, output shapes and parameter
 * counts, and a picture of the graph.
 */
@Command(
    name = "summary",
    mixinStandardHelpOptions = true,
    description = "Print a model's layers, output shapes and parameter counts.")
final class SummaryCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "NAME",
      description = "Model name: ${COMPLETION-CANDIDATES}.",
      completionCandidates = ModelNames.class)
  String model;

  @Option(
      names = "--plot",
      paramLabel = "FILE",
      description =
          "Also draw the model's graph with output shapes to FILE (.png), like Keras' plot_model;"
              + " laid out by Graphviz dot when it is installed.")
  Path plot;

  @Option(
      names = "--memory",
      paramLabel = "BATCH",
      description = "Also print the plan's activation and gradient buffer sizes at this batch.")
  Integer memoryBatch;

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
  }

  @Override
  public Integer call() {
    ModelSpec m = ModelNames.lookup(model);
    if (plot != null) {
      if (!plot.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
        throw new UserError("--plot " + plot + ": the picture is a PNG; name the file *.png");
      }
      if (Files.isDirectory(plot)) {
        throw new UserError("--plot " + plot + " is a folder; name a .png file");
      }
    }
    Graph net = m.build(m.seed());
    String how = null;
    if (plot != null) {
      try {
        how = ModelPlot.write(net, plot).how();
      } catch (IOException e) {
        throw new UserError("--plot " + plot + ": " + ModelPlot.why(e), e);
      }
    }
    var out = spec.commandLine().getOut();
    out.println("Model: " + m.name() + " - " + m.description());
    out.print(net.summary());
    if (plot != null) {
      out.println("Model plot: " + plot + " (laid out by " + how + ")");
    }
    if (memoryBatch != null) {
      if (memoryBatch < 1) {
        throw new UserError("--memory must be a batch size of at least 1, got " + memoryBatch);
      }
      try (Backend cpu = Backends.open("cpu", Backends.Options.defaults().threads(1)).backend()) {
        Plan.Memory train = Plan.forTraining(net, cpu, memoryBatch, m.loss().get()).memory();
        Plan.Memory infer = Plan.forInference(net, cpu, memoryBatch, null).memory();
        out.printf(
            Locale.ROOT,
            "Plan buffers at batch %d: training %s (without reuse %s: activations %s, gradients"
                + " %s), inference %s (without reuse %s)%n",
            memoryBatch,
            mib(train.total()),
            mib(train.unshared()),
            mib(train.activations()),
            mib(train.gradients()),
            mib(infer.total()),
            mib(infer.unshared()));
      }
    }
    out.flush();
    return 0;
  }
}
