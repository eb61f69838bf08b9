package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * A guard, not a measurement (the JMH suite measures: TrainStepBenchmark -prof gc): after warm-up a
 * training step on the CPU backend allocates next to nothing. Before every kernel kept its loop
 * bodies in per-thread objects, capturing lambdas cost ~1 KiB per step of this model.
 */
class AllocationFreeStepTest {

  @Test
  void aWarmTrainingStepAllocatesAlmostNothing() {
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
    Sequential net = new Sequential(784)
        .add(new dev.marrow.engine.nn.Dense(128, dev.marrow.engine.backend.Activation.RELU))
        .add(new dev.marrow.engine.nn.Dense(10)).build(3);
    try (CpuBackend cpu = new CpuBackend(2)) {
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
        perStep = Math.min(perStep,
            (threads.getCurrentThreadAllocatedBytes() - before) / (double) steps);
      }
      assertTrue(perStep < 128, perStep + " bytes allocated per training step");
    }
  }
}
