package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.fail;

import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
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

  @Test
  void aWarmTrainingStepAllocatesAlmostNothing() throws Exception {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    // The Keras tutorial's MLP at batch 32: big enough that its GEMMs and updates run on the team.
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    float[] x = new float[32 * 784];
    int[] y = new int[32];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextDouble();
    }
    for (int i = 0; i < y.length; i++) {
      y[i] = r.nextInt(10);
    }
    Dataset data = new Dataset(dev.marrow.engine.tensor.Tensor.of(x, 32, 784), y, 10);
    Sequential net =
        new Sequential(784)
            .add(new dev.marrow.engine.nn.Dense(128, dev.marrow.engine.backend.Activation.RELU))
            .add(new dev.marrow.engine.nn.Dense(10))
            .build(3);
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Adam adam = new Adam(1e-3);
      adam.attach(cpu, net.parameters());
      Plan plan = Plan.forTraining(net, cpu, 32, new SparseCategoricalCrossentropy(true));
      plan.loadBatch(data, null, 0);
      for (int i = 0; i < 3_000; i++) {
        plan.trainStep(adam);
      }
      // Until C2 has compiled the kernels their vectors live on the heap, and on a loaded
      // machine that can take longer than the warm-up: a warm step is one of the best window.
      double perStep = Double.POSITIVE_INFINITY;
      for (int window = 0; window < 20 && perStep >= 128; window++) {
        long before = threads.getCurrentThreadAllocatedBytes();
        int steps = 500;
        for (int i = 0; i < steps; i++) {
          plan.trainStep(adam);
        }
        perStep =
            Math.min(perStep, (threads.getCurrentThreadAllocatedBytes() - before) / (double) steps);
      }
      if (perStep >= 128) { // say where: sample the allocations of a few more steps
        fail(perStep + " bytes allocated per training step, at " + allocationSites(plan, adam));
      }
    }
  }

  private static String allocationSites(Plan plan, Adam adam) throws Exception {
    Path file = Files.createTempFile("allocations", ".jfr");
    try (Recording recording = new Recording()) {
      recording.enable("jdk.ObjectAllocationSample").withStackTrace();
      recording.start();
      for (int i = 0; i < 200; i++) {
        plan.trainStep(adam);
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
