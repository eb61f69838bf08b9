package dev.marrow.bench;

import dev.marrow.engine.backend.BackendProfiler;
import dev.marrow.models.zoo.ModelZoo;
import java.util.Arrays;
import java.util.Locale;

/**
 * {@code bench/run --steps MODEL BATCH [STEPS] [--profile|--profile-shapes]}: the median wall time
 * of a zoo model's training step (forward, loss, backward, Adam) on the CPU backend, over the last
 * two thirds of STEPS steps on one MNIST-like batch, and the first step's time. With {@code
 * --profile} every backend call is timed ({@link BackendProfiler}) and the table of the last two
 * thirds' operations follows, by operation or by operation and shape: where a step's time goes,
 * beside PyTorch's {@code torch.profiler} table for the same model. For models whose epochs are too
 * long to time whole beside PyTorch (vgg, resnet); {@code bench/pytorch/} and the PyTorch anchors
 * time the same way.
 */
public final class StepTimes {
  private StepTimes() {}

  public static void main(String[] args) {
    String profile =
        args.length > 0 && args[args.length - 1].startsWith("--profile")
            ? args[args.length - 1]
            : null;
    if (profile != null) {
      args = Arrays.copyOf(args, args.length - 1);
    }
    if (args.length < 2
        || args.length > 3
        || profile != null && !profile.equals("--profile") && !profile.equals("--profile-shapes")) {
      System.err.println(
          "usage: bench/run --steps MODEL BATCH [STEPS] [--profile|--profile-shapes],"
              + " e.g. --steps vgg 128 30");
      System.exit(2);
    }
    if (ModelZoo.find(args[0]).isEmpty()) {
      throw new IllegalArgumentException("no zoo model named " + args[0]);
    }
    int steps = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    // The JMH benchmark's own set-up: the same model, batch, Adam and MNIST-like data.
    TrainStepBenchmark step = new TrainStepBenchmark();
    step.model = args[0];
    step.batch = Integer.parseInt(args[1]);
    step.setUp(
        profile == null
            ? null
            : profile.equals("--profile") ? BackendProfiler::of : BackendProfiler::byShape);
    try {
      double[] ms = new double[steps];
      for (int s = 0; s < steps; s++) {
        if (s == steps / 3 && step.profiler() != null) {
          step.profiler().reset(); // the JIT's warm-up steps are not what a step costs
        }
        long t0 = System.nanoTime();
        step.trainStep();
        ms[s] = (System.nanoTime() - t0) / 1e6;
      }
      double[] later = Arrays.copyOfRange(ms, steps / 3, steps);
      Arrays.sort(later);
      System.out.printf(
          Locale.ROOT,
          "%s batch %d: median step %.1f ms over %d steps (first step %.0f ms), %d threads%n",
          step.model,
          step.batch,
          later[later.length / 2],
          later.length,
          ms[0],
          step.threads());
      if (step.profiler() != null) {
        System.out.print(step.profiler().table());
      }
    } finally {
      step.tearDown();
    }
  }
}
