package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.fail;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.ActivationLayer;
import dev.marrow.engine.nn.Add;
import dev.marrow.engine.nn.BatchNormalization;
import dev.marrow.engine.nn.Concatenate;
import dev.marrow.engine.nn.Conv2D;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Dropout;
import dev.marrow.engine.nn.GlobalAveragePooling2D;
import dev.marrow.engine.nn.GradientCheck;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.nn.Padding;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/**
 * A guard, not a measurement (the JMH suite measures: TrainStepBenchmark -prof gc): after warm-up a
 * training step on the CPU backend allocates next to nothing. Before every kernel kept its loop
 * bodies in per-thread objects, capturing lambdas cost ~1 KiB per step of this model.
 */
class AllocationFreeStepTest {

  /** The Keras tutorial's MLP at batch 32: big enough that its GEMMs and updates use the team. */
  @Test
  void aWarmMlpTrainingStepAllocatesAlmostNothing() throws Exception {
    Graph net =
        new Sequential(784).add(new Dense(128, Activation.RELU)).add(new Dense(10)).build(3);
    assertAllocationFree(net, 32, 3_000, 500);
  }

  /**
   * A residual CNN: a convolution the CPU runs by Winograd, a node read by two layers (the
   * shortcut), a 1×1 stride-2 projection, batch norm, dropout (its mask saved for backward, its
   * seed drawn per step), Add and batch norm each fused with the ReLU after it, concatenation and
   * global pooling, so the graph's gradient sums and the plan's shared buffers are covered too.
   */
  @Test
  void aWarmResidualTrainingStepAllocatesAlmostNothing() throws Exception {
    Node x = Node.input(1, 12, 12);
    Node stem =
        Conv2D.builder(16, 3).padding(Padding.SAME).activation(Activation.RELU).build().apply(x);
    // 16 → 16 channels, 3 × 3 'same' on 12 × 12: the CPU backend runs it by Winograd both ways
    Node deep = Conv2D.builder(16, 3).padding(Padding.SAME).build().apply(stem);
    Node main =
        Conv2D.builder(16, 3).strides(2, 2).padding(Padding.explicit(1, 1)).build().apply(deep);
    main =
        new ActivationLayer(Activation.RELU).apply(new BatchNormalization(0.9, 1e-5).apply(main));
    main = new Dropout(0.1).apply(main);
    Node shortcut = Conv2D.builder(16, 1).strides(2, 2).build().apply(stem);
    // the block's Add and the ReLU after it run as one step (Fusion)
    Node sum = new ActivationLayer(Activation.RELU).apply(new Add().apply(main, shortcut));
    Node joined = new Concatenate().apply(sum, shortcut);
    Node out = new Dense(10).apply(new GlobalAveragePooling2D().apply(joined));
    assertAllocationFree(new Graph(List.of(x), List.of(out)).build(3), 32, 1_000, 100);
  }

  /**
   * Trains {@code net} for {@code warmUp} steps, then fails unless some window of {@code steps}
   * allocated under 128 bytes per step, summed over the calling thread and every worker of the CPU
   * backend's team (whose allocations getCurrentThreadAllocatedBytes would not see).
   */
  private static void assertAllocationFree(Graph net, int batch, int warmUp, int steps)
      throws Exception {
    Dataset data = GradientCheck.randomData(net.inputShape(), batch, 10, 5);
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Adam adam = new Adam(1e-3);
      adam.attach(cpu, net.parameters());
      Plan plan = Plan.forTraining(net, cpu, batch, new SparseCategoricalCrossentropy(true));
      plan.loadBatch(data, null, 0);
      for (int i = 0; i < warmUp; i++) {
        step(plan, adam, i);
      }
      long[] ids = stepThreads(cpu);
      // Until C2 has compiled the kernels their vectors live on the heap, and on a loaded
      // machine that can take longer than the warm-up: a warm step is one of the best window.
      double perStep = Double.POSITIVE_INFINITY;
      for (int window = 0; window < 20 && perStep >= 128; window++) {
        long before = allocated(ids);
        for (int i = 0; i < steps; i++) {
          step(plan, adam, i);
        }
        perStep = Math.min(perStep, (allocated(ids) - before) / (double) steps);
      }
      if (perStep >= 128) { // say where: sample the allocations of a few more steps
        fail(perStep + " bytes allocated per training step, at " + allocationSites(plan, adam));
      }
    }
  }

  /** A step as the trainer runs it: a seed for the random layers, then the update. */
  private static void step(Plan plan, Adam adam, int i) {
    plan.setStepSeed(i);
    plan.trainStep(adam);
  }

  /** The calling thread and the backend's team workers, which must all be running. */
  private static long[] stepThreads(CpuBackend cpu) {
    List<Long> ids = new ArrayList<>();
    ids.add(Thread.currentThread().threadId());
    for (Thread t : cpu.workerThreads()) {
      if (!t.isAlive()) {
        fail("team worker " + t.getName() + " is not running");
      }
      ids.add(t.threadId());
    }
    if (ids.size() != cpu.threads()) {
      fail("expected the caller and " + (cpu.threads() - 1) + " workers, found " + ids.size());
    }
    return ids.stream().mapToLong(Long::longValue).toArray();
  }

  private static long allocated(long[] ids) {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (long bytes : threads.getThreadAllocatedBytes(ids)) {
      sum += Math.max(0, bytes);
    }
    return sum;
  }

  private static String allocationSites(Plan plan, Adam adam) throws Exception {
    Path file = Files.createTempFile("allocations", ".jfr");
    try (Recording recording = new Recording()) {
      recording.enable("jdk.ObjectAllocationSample").withStackTrace();
      recording.start();
      for (int i = 0; i < 200; i++) {
        step(plan, adam, i);
      }
      recording.stop();
      recording.dump(file);
      Map<String, Long> bytesBySite = new TreeMap<>();
      for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
        RecordedStackTrace stack = e.getStackTrace();
        String site =
            e.getClass("objectClass").getName()
                + " in "
                + (stack == null
                    ? "?"
                    : stack.getFrames().stream()
                        .filter(f -> !f.getMethod().getType().getName().startsWith("jdk."))
                        .limit(3)
                        .map(
                            f ->
                                f.getMethod().getType().getName()
                                    + "."
                                    + f.getMethod().getName()
                                    + ":"
                                    + f.getLineNumber()
                                    + "("
                                    + f.getType()
                                    + ")")
                        .collect(Collectors.joining(" < ")));
        bytesBySite.merge(site, e.getLong("weight"), Long::sum);
      }
      return bytesBySite.entrySet().stream()
          .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
          .limit(5)
          .map(en -> en.getValue() + " B: " + en.getKey())
          .collect(Collectors.joining("; "));
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
