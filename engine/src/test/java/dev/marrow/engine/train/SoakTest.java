package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.backend.cuda.CudaBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.optim.Adam;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * Creates, trains and disposes models and backends again and again, as a long-running service
 * would: threads must return to the baseline and retained heap must stay flat.
 */
class SoakTest {

  /**
   * Native memory the JVM tracks (NMT, enabled for the engine's tests), Java heap excluded, and its
   * "Other" category, where Arena and Unsafe allocations land; in KiB. -1 without NMT.
   */
  static long[] nativeMemoryKiB() throws Exception {
    String text =
        (String)
            ManagementFactory.getPlatformMBeanServer()
                .invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "vmNativeMemory",
                    new Object[] {new String[] {"summary"}},
                    new String[] {String[].class.getName()});
    long total = committed(text, "Total"), heap = committed(text, "Java Heap");
    long other = committed(text, "Other");
    // The JIT's share comes and goes with whatever C2 happens to be compiling when the summary is
    // taken (its arenas held 20 MiB more at one end of a run than at the other, no leak): left out.
    long jit =
        Math.max(0, committed(text, "Compiler"))
            + Math.max(0, committed(text, "Arena Chunk"))
            + Math.max(0, committed(text, "Code"));
    return total < 0 ? new long[] {-1, -1} : new long[] {total - heap - jit, other};
  }

  private static long committed(String nmt, String section) {
    Matcher m =
        Pattern.compile(Pattern.quote(section) + "[ :(]+reserved=(\\d+)KB, committed=(\\d+)KB")
            .matcher(nmt);
    return m.find() ? Long.parseLong(m.group(2)) : (section.equals("Other") ? 0 : -1);
  }

  /** Resident set size of the process (covers native libraries' own malloc too), in KiB. */
  static long residentKiB() throws Exception {
    return Files.readAllLines(Path.of("/proc/self/status")).stream()
        .filter(l -> l.startsWith("VmRSS:"))
        .map(l -> l.replaceAll("\\D+", ""))
        .mapToLong(Long::parseLong)
        .findFirst()
        .orElse(-1);
  }

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
    Runnable cycle =
        () -> {
          try (CpuBackend cpu = TestBackends.cpu(2)) {
            Trainer t =
                new Trainer(
                    TrainerTest.mlp(1),
                    new Adam(1e-2),
                    new SparseCategoricalCrossentropy(true),
                    cpu);
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
    long[] nativeBefore = nativeMemoryKiB();
    // MARROW_SOAK_CYCLES raises the count for a longer run (1,200 → flat too).
    int cycles = Integer.parseInt(System.getenv().getOrDefault("MARROW_SOAK_CYCLES", "300"));
    for (int i = 0; i < cycles; i++) {
      cycle.run();
    }
    Thread.sleep(200);
    int threadsAfter = ManagementFactory.getThreadMXBean().getThreadCount();
    long heapAfter = retainedHeap();
    long[] nativeAfter = nativeMemoryKiB();
    assertTrue(
        threadsAfter <= threadsBefore + 1,
        "threads " + threadsBefore + " → " + threadsAfter + " after " + cycles + " backends");
    // 2 MiB of slack for GC noise; the ThreadLocal leak this caught grew 50 KiB per cycle.
    assertTrue(
        heapAfter < heapBefore + 2L * 1024 * 1024,
        "retained heap " + heapBefore / 1024 + " KiB → " + heapAfter / 1024 + " KiB");
    // Arenas and Unsafe memory ("Other") must come back; the rest of the non-heap total (the JIT's
    // compiler arenas and code cache left out) gets some slack.
    assertTrue(
        nativeAfter[1] < nativeBefore[1] + 1024,
        "NMT Other " + nativeBefore[1] + " → " + nativeAfter[1] + " KiB");
    assertTrue(
        nativeAfter[0] < nativeBefore[0] + 16 * 1024,
        "NMT non-heap " + nativeBefore[0] + " → " + nativeAfter[0] + " KiB");
    System.out.printf(
        "soak: %d train/dispose cycles: threads %d → %d, retained heap %d → %d KiB,"
            + " NMT committed (non-heap) %d → %d KiB, NMT Other %d → %d KiB%n",
        cycles,
        threadsBefore,
        threadsAfter,
        heapBefore / 1024,
        heapAfter / 1024,
        nativeBefore[0],
        nativeAfter[0],
        nativeBefore[1],
        nativeAfter[1]);
  }

  /**
   * The same on the CUDA backend (emulated in CI): every cycle opens a backend, trains, predicts
   * and closes it; device allocations return to zero and the process's memory stays flat.
   */
  @Test
  void repeatedCudaBackendsReturnEveryDeviceBuffer() throws Exception {
    Dataset data = TrainerTest.sectors(256, 52);
    java.util.concurrent.Callable<Integer> cycle =
        () -> {
          Backend gpu = TestBackends.cuda().orElse(null);
          if (gpu == null) {
            return -1;
          }
          try (gpu) {
            Trainer t =
                new Trainer(
                    TrainerTest.mlp(1),
                    new Adam(1e-2),
                    new SparseCategoricalCrossentropy(true),
                    gpu);
            t.fit(data, FitOptions.defaults().epochs(1).batchSize(32));
            t.predict(data.features());
            return ((CudaBackend) gpu).liveBuffers();
          }
        };
    assumeTrue(cycle.call() >= 0, "no CUDA backend in this run");
    for (int i = 0; i < 10; i++) {
      cycle.call();
    }
    long rssBefore = residentKiB();
    long[] nativeBefore = nativeMemoryKiB();
    long deviceBefore = CudaBackend.deviceMemoryInUse(0);
    int cycles = Integer.parseInt(System.getenv().getOrDefault("MARROW_SOAK_CYCLES", "300")) / 3;
    for (int i = 0; i < cycles; i++) {
      assertTrue(cycle.call() > 0, "the backend held device buffers while open");
    }
    assertEquals(
        deviceBefore, CudaBackend.deviceMemoryInUse(0), "device bytes in use (cudaMemGetInfo)");
    retainedHeap();
    long rssAfter = residentKiB();
    long[] nativeAfter = nativeMemoryKiB();
    assertTrue(
        nativeAfter[1] < nativeBefore[1] + 1024,
        "NMT Other " + nativeBefore[1] + " → " + nativeAfter[1] + " KiB");
    assertTrue(rssAfter < rssBefore + 32 * 1024, "RSS " + rssBefore + " → " + rssAfter + " KiB");
    System.out.printf(
        "soak (cuda): %d open/train/close cycles: NMT Other %d → %d KiB, RSS %d → %d" + " KiB%n",
        cycles, nativeBefore[1], nativeAfter[1], rssBefore, rssAfter);
  }
}
