package dev.marrow.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.tensor.Tensor;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * A guard like AllocationFreeStepTest, for the two kernels a padding or concatenation layer runs
 * every step: once warm, copyBlocks and multiply allocate nothing, on one thread or split over the
 * team (a capturing lambda per call would cost some 40 bytes each).
 */
class CopyAndMultiplyAllocationTest {

  @Test
  void warmCallsAllocateNothing() {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    // 128 images × 16 planes, rows of 31 into rows of 33: ZeroPadding2D(1) on one row index.
    int planes = 128 * 16, n = 50_000;
    Tensor src = Tensor.zeros(planes * 31), dst = Tensor.zeros(planes * 33);
    Tensor a = Tensor.zeros(n), b = Tensor.zeros(n), small = Tensor.zeros(100);
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Runnable calls =
          () -> {
            cpu.copyBlocks(src, 0, 31, dst, 1, 33, planes, 31, false); // on the team
            cpu.copyBlocks(dst, 1, 33, src, 0, 31, planes, 31, true);
            cpu.copyBlocks(small, 3, 10, small, 50, 12, 4, 9, true); // on this thread
            cpu.multiply(a, b, a, false);
            cpu.multiply(a, b, b, true);
            cpu.multiply(small, small, small, false);
          };
      for (int i = 0; i < 3_000; i++) {
        calls.run();
      }
      // As in AllocationFreeStepTest: the best of a few windows, since C2 may still be compiling.
      double perRound = Double.POSITIVE_INFINITY;
      for (int window = 0; window < 20 && perRound >= 16; window++) {
        long before = threads.getCurrentThreadAllocatedBytes();
        int rounds = 500;
        for (int i = 0; i < rounds; i++) {
          calls.run();
        }
        perRound =
            Math.min(
                perRound, (threads.getCurrentThreadAllocatedBytes() - before) / (double) rounds);
      }
      assertTrue(perRound < 16, perRound + " bytes allocated per round of six calls");
    }
  }
}
