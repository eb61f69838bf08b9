package dev.marrow.bench;

import dev.marrow.bindings.CudaLibraries;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.backend.cuda.CudaBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.train.BatchLogs;
import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.History;
import dev.marrow.engine.train.Plan;
import dev.marrow.engine.train.Trainer;
import dev.marrow.engine.train.TrainingContext;
import dev.marrow.models.mnist.Mnist;
import dev.marrow.models.zoo.ModelSpec;
import dev.marrow.models.zoo.ModelZoo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training and timing part of the one-call GPU check ({@code bench/gpu-check/run}): the zoo's
 * cnn trained for one epoch of MNIST on the CPU backend and on the CUDA backend from the same seed,
 * their loss curves compared batch by batch, then the CUDA backend's epoch and batch-256 inference
 * timed the way {@code bench/gpu-check/torch_cnn.py} times PyTorch on the same GPU.
 *
 * <pre>GpuCheck MNIST_DIR IMAGES RESULTS_FILE</pre>
 *
 * MNIST_DIR holds {@code train-images-idx3-ubyte.gz} and {@code train-labels-idx1-ubyte.gz}; IMAGES
 * is how many of the 60,000 training images an epoch takes (all of them on a GPU, fewer on the host
 * emulation, which runs every kernel thread by thread). A Markdown section goes to standard output,
 * {@code key=value} lines to RESULTS_FILE for the run script's table beside PyTorch. The CUDA
 * backend is the real one unless {@code -Dmarrow.cuda.emulation} names the host emulation. Exit
 * status 0 when the curves agree, 1 when they do not.
 *
 * <p>The tolerance. Both runs start from the same weights and see the same batches in the same
 * order; they differ only in rounding (summation order, cuDNN's choice of algorithm, atomics in its
 * backward passes), about 1e-6 relative per operation. Over the first {@link #EARLY_BATCHES}
 * batches that stays at rounding level, so the running loss (Keras' progress-bar loss: the mean
 * over every batch so far) must agree within {@link #EARLY_TOLERANCE}, the bound the CI tests hold
 * the emulation to. Later, Adam amplifies rounding into slightly different weights, and the curves
 * drift apart. Measured on the CPU backend over a whole epoch (2026-11-29, 2 cores): the same
 * training with AVX2-shaped instead of AVX-512-shaped kernels ({@code -Dmarrow.cpu.vectorBits=256},
 * rounding alone) agrees exactly for 100 batches and then drifts to at most 1.0e-3; the host
 * emulation agrees within 1e-8 over 30 batches; a different seed (43 against 42: other weights and
 * another order) differs by 2.4e-2 at batch 20 and up to 3.6e-2. So the running loss must agree
 * within {@link #EPOCH_TOLERANCE} at every batch: ten times the drift rounding alone caused, a
 * third of the gap to another seed's training. A wrong kernel (a gradient, a stride, an update)
 * moves the loss by far more than either.
 */
public final class GpuCheck {
  /** Batches whose running loss must agree to rounding level. */
  static final int EARLY_BATCHES = 20;

  /** Relative tolerance of the running loss over the first {@link #EARLY_BATCHES} batches. */
  static final double EARLY_TOLERANCE = 1e-3;

  /** Relative tolerance of the running loss at every batch of the epoch. */
  static final double EPOCH_TOLERANCE = 1e-2;

  /** Inference batch, as PyTorch's script and {@code InferenceBenchmark} use. */
  static final int INFERENCE_BATCH = 256;

  private GpuCheck() {}

  /** The first epoch's running loss after every batch and accuracy, and each epoch's wall time. */
  record Curve(double[] runningLoss, double[] epochSeconds, double finalAccuracy) {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: GpuCheck MNIST_DIR IMAGES RESULTS_FILE");
      System.exit(2);
    }
    Path mnist = Path.of(args[0]);
    int images = Integer.parseInt(args[1]);
    Path results = Path.of(args[2]);
    Dataset train =
        Mnist.load(
                mnist.resolve("train-images-idx3-ubyte.gz"),
                mnist.resolve("train-labels-idx1-ubyte.gz"))
            .slice(0, images);
    ModelSpec cnn = ModelZoo.find("cnn").orElseThrow();
    Map<String, String> out = new LinkedHashMap<>();
    out.put("images", Integer.toString(images));

    // CUDA first: when it does not open, say why before spending a CPU epoch.
    boolean passed;
    try (Backend gpu = Backends.open("cuda:0").backend()) {
      String kernels = ((CudaBackend) gpu).kernelBuild();
      Curve cpu;
      try (Backend b = Backends.open("cpu").backend()) {
        cpu = train(cnn, b, train, 1, null);
      }
      double[] inference = new double[1];
      Curve cuda = train(cnn, gpu, train, 2, inference);
      Comparison cmp = compare(cpu.runningLoss(), cuda.runningLoss());
      passed = cmp.failures().isEmpty();
      out.put("device", gpu.name());
      out.put("kernels", kernels);
      out.put("batches", Integer.toString(cpu.runningLoss().length));
      out.put("curve.max_rel_diff_early", fmt("%.3e", cmp.worstEarly()));
      out.put("curve.max_rel_diff", fmt("%.3e", cmp.worst()));
      out.put("curve.worst_batch", Integer.toString(cmp.worstBatch()));
      out.put("curve", passed ? "PASS" : "FAIL");
      out.put("cpu.epoch_seconds", fmt("%.3f", cpu.epochSeconds()[0]));
      out.put("marrow.epoch1_seconds", fmt("%.3f", cuda.epochSeconds()[0]));
      out.put("marrow.epoch2_seconds", fmt("%.3f", cuda.epochSeconds()[1]));
      out.put("marrow.infer256_images_per_second", fmt("%.0f", inference[0]));
      // The verdict is written before the timings below, which are a reference, not a check: a
      // run stopped during them still has it.
      writeResults(results, out);
      System.out.print(report(cpu, cuda, gpu.name(), images, cmp));
      System.out.printf("%nFused kernels (kernels.cu): %s.%n%n", kernels);
      List<String> f = cmp.failures();
      System.out.println(
          passed
              ? "Loss curves: PASS."
              : "Loss curves: FAIL (" + f.size() + "): " + f.subList(0, Math.min(5, f.size())));
      System.out.flush();

      // The convolutional zoo models' steps; on the host emulation (every kernel a host loop) a
      // token batch, only to show the timing works.
      boolean emulated = CudaLibraries.emulationSelected();
      for (String model : List.of("resnet", "vgg")) {
        ModelSpec spec = ModelZoo.find(model).orElseThrow();
        int batch = emulated ? 8 : spec.batchSize();
        double ms = stepMillis(spec, gpu, batch, emulated ? 1 : 5, emulated ? 2 : 20);
        out.put("marrow." + model + "_step_ms", fmt("%.2f", ms));
        out.put("marrow." + model + "_step_batch", Integer.toString(batch));
        writeResults(results, out);
        System.out.printf("%s training step, batch %d: %.2f ms.%n", model, batch, ms);
      }
    }
    System.exit(passed ? 0 : 1);
  }

  private static void writeResults(Path results, Map<String, String> values) throws IOException {
    StringBuilder kv = new StringBuilder();
    values.forEach((k, v) -> kv.append(k).append('=').append(v).append('\n'));
    Files.writeString(results, kv);
  }

  /**
   * How far apart two running-loss curves are, and every point outside its tolerance; the loss must
   * also have fallen by a quarter over the curve.
   *
   * @param worstEarly the largest relative difference over the first {@link #EARLY_BATCHES}
   * @param worst the largest over the whole curve, at batch {@code worstBatch} (1-based)
   */
  record Comparison(double worstEarly, double worst, int worstBatch, List<String> failures) {}

  static Comparison compare(double[] cpu, double[] cuda) {
    if (cpu.length != cuda.length || cpu.length == 0) {
      throw new IllegalArgumentException(cpu.length + " against " + cuda.length + " batches");
    }
    double worstEarly = 0, worst = 0;
    int worstBatch = 0;
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < cpu.length; i++) {
      double rel = Math.abs(cpu[i] - cuda[i]) / Math.abs(cpu[i]);
      double tolerance = i < EARLY_BATCHES ? EARLY_TOLERANCE : EPOCH_TOLERANCE;
      if (i < EARLY_BATCHES) {
        worstEarly = Math.max(worstEarly, rel);
      }
      if (rel > worst || Double.isNaN(rel) && !Double.isNaN(worst)) {
        worst = rel;
        worstBatch = i + 1;
      }
      if (!(rel <= tolerance)) { // NaN fails too
        failures.add(
            fmt("batch %d: %.6f vs %.6f (%.2e > %.0e)", i + 1, cpu[i], cuda[i], rel, tolerance));
      }
    }
    int last = cuda.length - 1;
    if (!(cuda[last] < 0.75 * cuda[0])) {
      failures.add(fmt("the loss did not fall: %.4f → %.4f", cuda[0], cuda[last]));
    }
    return new Comparison(worstEarly, worst, worstBatch, failures);
  }

  /**
   * Trains a fresh cnn from the zoo's seed for {@code epochs} epochs; records the running loss of
   * the first. With {@code inference} non-null, then times batch-256 inference into its element 0.
   */
  private static Curve train(
      ModelSpec cnn, Backend backend, Dataset data, int epochs, double[] inference) {
    Trainer t =
        new Trainer(cnn.build(cnn.seed()), new Adam(cnn.learningRate()), cnn.loss().get(), backend);
    int batches = (data.size() + cnn.batchSize() - 1) / cnn.batchSize();
    double[] running = new double[batches];
    History h =
        t.fit(
            data,
            FitOptions.defaults()
                .epochs(epochs)
                .batchSize(cnn.batchSize())
                .seed(cnn.seed())
                .callback(
                    new Callback() {
                      private int epoch;

                      @Override
                      public void onEpochBegin(TrainingContext c, int e) {
                        epoch = e;
                      }

                      @Override
                      public void onBatchEnd(TrainingContext c, int batch, BatchLogs logs) {
                        if (epoch == 1) {
                          running[batch] = logs.loss();
                        }
                      }
                    }));
    double[] seconds = h.epochs().stream().mapToDouble(e -> e.seconds()).toArray();
    if (inference != null) {
      inference[0] = inferenceImagesPerSecond(t, backend, data);
    }
    return new Curve(running, seconds, h.epochs().getFirst().accuracy());
  }

  /**
   * The median wall time of a training step (forward, loss, backward, Adam, the loss read back,
   * which waits for the device) of a fresh {@code spec} model on one MNIST-like batch already on
   * the device, after {@code warmUp} steps: as {@code torch_cnn.py} times PyTorch's.
   */
  private static double stepMillis(
      ModelSpec spec, Backend backend, int batch, int warmUp, int timed) {
    TrainStepBenchmark.Step step = TrainStepBenchmark.prepare(spec.name(), backend, batch);
    double[] ms = new double[timed];
    for (int s = 0; s < warmUp + timed; s++) {
      long start = System.nanoTime();
      step.run();
      if (s >= warmUp) {
        ms[s - warmUp] = (System.nanoTime() - start) / 1e6;
      }
    }
    Arrays.sort(ms);
    return ms[timed / 2];
  }

  /**
   * Images per second of one forward pass at batch 256 with the input already on the device and the
   * logits copied back (which waits for the device), the median over at least 2 s after warm-up.
   */
  private static double inferenceImagesPerSecond(Trainer t, Backend backend, Dataset data) {
    int batch = Math.min(INFERENCE_BATCH, data.size());
    Plan plan = Plan.forInference(t.model(), backend, batch, null);
    plan.loadBatch(data, null, 0);
    List<Double> times = new ArrayList<>();
    long warmUpEnd = System.nanoTime() + 500_000_000L;
    for (int i = 0; i < 3 || System.nanoTime() < warmUpEnd; i++) {
      plan.forward(false);
      plan.output().readArray();
    }
    long end = System.nanoTime() + 2_000_000_000L;
    while (times.size() < 5 || System.nanoTime() < end && times.size() < 1000) {
      long start = System.nanoTime();
      plan.forward(false);
      plan.output().readArray();
      times.add((System.nanoTime() - start) / 1e9);
    }
    double[] sorted = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return batch / sorted[sorted.length / 2];
  }

  /** The Markdown section: the curves side by side at a few batches, and the timings. */
  private static String report(Curve cpu, Curve cuda, String device, int images, Comparison cmp) {
    int n = cpu.runningLoss().length;
    StringBuilder b = new StringBuilder();
    b.append(
        fmt(
            "cnn, one epoch of %d MNIST images (%d batches of 128), zoo seed, Adam 1e-3: running"
                + " loss on the CPU backend and on %s.%n%n",
            images, n, device));
    b.append("| batch | cpu | cuda | relative difference |\n| --- | --- | --- | --- |\n");
    int[] points = {1, 2, 5, 10, 20, 50, 100, 200, 300, 400, n};
    for (int p : Arrays.stream(points).filter(p -> p <= n).distinct().toArray()) {
      double c = cpu.runningLoss()[p - 1], g = cuda.runningLoss()[p - 1];
      b.append(fmt("| %d | %.6f | %.6f | %.2e |%n", p, c, g, Math.abs(c - g) / Math.abs(c)));
    }
    b.append(
        fmt(
            "%nLargest relative difference: %.2e over the first %d batches (tolerance %.0e),"
                + " %.2e over the epoch at batch %d (tolerance %.0e). Final running accuracy:"
                + " cpu %.4f, cuda %.4f.%n",
            cmp.worstEarly(),
            Math.min(EARLY_BATCHES, n),
            EARLY_TOLERANCE,
            cmp.worst(),
            cmp.worstBatch(),
            EPOCH_TOLERANCE,
            cpu.finalAccuracy(),
            cuda.finalAccuracy()));
    b.append(
        fmt(
            "%nEpoch time (training steps only): cpu %.2f s; %s %.2f s (first epoch: JIT,"
                + " cuDNN algorithm search), %.2f s (second).%n",
            cpu.epochSeconds()[0], device, cuda.epochSeconds()[0], cuda.epochSeconds()[1]));
    return b.toString();
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
