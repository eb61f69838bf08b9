package dev.marrow.bench;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.train.Plan;
import dev.marrow.models.zoo.ModelSpec;
import dev.marrow.models.zoo.ModelZoo;
import java.util.Locale;

/**
 * The batch-sized buffers of a zoo model's training and inference plans, with and without reuse of
 * buffers whose lifetime has ended. Counts bytes only (plans are compiled on the CPU backend,
 * nothing runs).
 *
 * <pre>PlanMemory [MODEL [BATCH]]     (default: resnet 128)</pre>
 *
 * <p>Rows "own": every buffer in memory of its own. Rows "reused": the activation and gradient
 * columns are what each kind takes when its buffers share memory among themselves; the total is
 * what the plan allocates, where activations and gradients share too; "live peak" is the most bytes
 * in use at once during a step, the floor under any sharing.
 */
public final class PlanMemory {
  private PlanMemory() {}

  public static void main(String[] args) {
    String name = args.length > 0 ? args[0] : "resnet";
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 128;
    ModelSpec spec =
        ModelZoo.find(name)
            .orElseThrow(() -> new IllegalArgumentException("no zoo model named " + name));
    Graph net = spec.architecture().get().build(spec.seed());
    try (Backend cpu = Backends.open("cpu", Backends.Options.defaults().threads(1)).backend()) {
      System.out.printf(
          Locale.ROOT, "%s at batch %d, MiB (%s parameters)%n", name, batch, net.parameterCount());
      System.out.printf(
          Locale.ROOT,
          "%-20s %12s %12s %12s %12s%n",
          "plan",
          "activations",
          "gradients",
          "total",
          "live peak");
      for (boolean training : new boolean[] {true, false}) {
        for (boolean reuse : new boolean[] {false, true}) {
          Plan plan =
              training
                  ? Plan.forTraining(net, cpu, batch, spec.loss().get(), reuse)
                  : Plan.forInference(net, cpu, batch, null, reuse);
          Plan.Memory m = plan.memory();
          System.out.printf(
              Locale.ROOT,
              "%-20s %12.1f %12.1f %12.1f %12.1f%n",
              (training ? "training" : "inference") + (reuse ? ", reused" : ", own"),
              mib(reuse ? m.sharedActivations() : m.activations()),
              mib(reuse ? m.sharedGradients() : m.gradients()),
              mib(m.total()),
              mib(m.livePeak()));
        }
      }
    }
  }

  private static double mib(long bytes) {
    return bytes / (1024.0 * 1024.0);
  }
}
