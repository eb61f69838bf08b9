package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.optim.Adam;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Creates, trains and disposes models and backends again and again, as a long-running service
 * would: threads must return to the baseline and retained heap must stay flat.
 */
class SoakTest {

  private static long retainedHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  @Test
  void repeatedTrainAndDisposeLeaksNeitherThreadsNorHeap() throws Exception {
    Dataset data = TrainerTest.sectors(256, 51);
    Runnable cycle = () -> {
      try (CpuBackend cpu = new CpuBackend(2)) {
        Trainer t = new Trainer(TrainerTest.mlp(1), new Adam(1e-2),
            new SparseCategoricalCrossentropy(true), cpu);
        t.fit(data, FitOptions.defaults().epochs(1).batchSize(32));
        t.predict(data.features());
      }
    };
    for (int i = 0; i < 20; i++) {
      cycle.run(); // warm up: JIT, class loading, first allocations
    }
    Thread.sleep(200); // closed teams' workers finish their last spin and exit
    int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
    long heapBefore = retainedHeap();
    // MARROW_SOAK_CYCLES raises the count for a longer run (1,200 → flat too).
    int cycles = Integer.parseInt(System.getenv().getOrDefault("MARROW_SOAK_CYCLES", "300"));
    for (int i = 0; i < cycles; i++) {
      cycle.run();
    }
    Thread.sleep(200);
    int threadsAfter = ManagementFactory.getThreadMXBean().getThreadCount();
    long heapAfter = retainedHeap();
    assertTrue(threadsAfter <= threadsBefore + 1,
        "threads " + threadsBefore + " → " + threadsAfter + " after " + cycles + " backends");
    // 2 MiB of slack for GC noise; the ThreadLocal leak this caught grew 50 KiB per cycle.
    assertTrue(heapAfter < heapBefore + 2L * 1024 * 1024,
        "retained heap " + heapBefore / 1024 + " KiB → " + heapAfter / 1024 + " KiB");
    System.out.printf("soak: %d train/dispose cycles: threads %d → %d, retained heap %d → %d KiB%n",
        cycles, threadsBefore, threadsAfter, heapBefore / 1024, heapAfter / 1024);
  }
}
