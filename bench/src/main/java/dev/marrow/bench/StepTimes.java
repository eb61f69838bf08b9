package dev.marrow.bench;

import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Plan;
import dev.marrow.models.zoo.ModelSpec;
import dev.marrow.models.zoo.ModelZoo;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code bench/run --steps MODEL BATCH [STEPS]}: the median wall time of a zoo model's training
 * step (forward, loss, backward, Adam) on the CPU backend, over the last two thirds of STEPS steps
 * on one MNIST-like batch, and the first step's time. For models whose epochs are too long to time
 * whole beside PyTorch (vgg, resnet); {@code bench/pytorch/} and the PyTorch anchors time the same
 * way.
 */
public final class StepTimes {
  private StepTimes() {}

  public static void main(String[] args) {
    if (args.length < 2 || args.length > 3) {
      System.err.println("usage: bench/run --steps MODEL BATCH [STEPS], e.g. --steps vgg 128 30");
      System.exit(2);
    }
    ModelSpec spec =
        ModelZoo.find(args[0])
            .orElseThrow(() -> new IllegalArgumentException("no zoo model named " + args[0]));
    int batch = Integer.parseInt(args[1]), steps = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    Graph net = spec.build(1);
    try (CpuBackend cpu = (CpuBackend) Backends.open("cpu").backend()) {
      Adam adam = new Adam(1e-3);
      adam.attach(cpu, net.parameters());
      SplittableRandom r = new SplittableRandom(2);
      Tensor x = Tensor.zeros(net.inputShape().withBatch(batch));
      TrainStepBenchmark.fillLikeMnist(x.array(), r);
      int[] y = new int[batch];
      for (int i = 0; i < batch; i++) {
        y[i] = r.nextInt(10);
      }
      Plan train = Plan.forTraining(net, cpu, batch, spec.loss().get());
      train.loadBatch(new Dataset(x, y, 10), null, 0);
      double[] ms = new double[steps];
      for (int s = 0; s < steps; s++) {
        long t0 = System.nanoTime();
        train.trainStep(adam);
        ms[s] = (System.nanoTime() - t0) / 1e6;
      }
      double[] later = Arrays.copyOfRange(ms, steps / 3, steps);
      Arrays.sort(later);
      System.out.printf(
          Locale.ROOT,
          "%s batch %d: median step %.1f ms over %d steps (first step %.0f ms), %d threads%n",
          args[0],
          batch,
          later[later.length / 2],
          later.length,
          ms[0],
          cpu.threads());
    }
  }
}
