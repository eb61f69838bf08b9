package dev.marrow.cli;

import dev.marrow.engine.nn.Graph;
import dev.marrow.models.zoo.ModelSpec;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code marrow summary --model NAME}: layers, output shapes and parameter counts. */
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

  @Override
  public Integer call() {
    ModelSpec m = ModelNames.lookup(model);
    Graph net = m.build(m.seed());
    var out = spec.commandLine().getOut();
    out.println("Model: " + m.name() + " - " + m.description());
    out.print(net.summary());
    out.flush();
    return 0;
  }
}
