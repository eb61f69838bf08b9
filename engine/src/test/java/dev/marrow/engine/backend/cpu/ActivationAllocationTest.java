package dev.marrow.engine.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.marrow.engine.backend.Activation;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A guard like AllocationFreeStepTest, per activation kernel: once compiled, forward, backward and
 * the fused bias epilogue allocate nothing. gelu and softplus are long enough that, written as one
 * loop, C2 left some of their vectors on the heap (see VectorMath's erf).
 */
class ActivationAllocationTest {

  @ParameterizedTest
  @EnumSource(names = {"RELU", "SIGMOID", "TANH", "LEAKY_RELU", "ELU", "GELU", "SILU", "SOFTPLUS"})
  void warmKernelsAllocateNothing(Activation kind) {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    int n = 4099; // a masked tail, and more than one block of the multi-pass activations
    float[] x = new float[n], y = new float[n], dy = new float[n], dx = new float[n];
    float[] bias = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (i % 200 - 100) * 0.07f;
      dy[i] = 1;
      bias[i] = 0.01f;
    }
    try (ThreadTeam team = new ThreadTeam(1)) {
      ElementwiseKernels kernels = new ElementwiseKernels(team);
      long perCall = Long.MAX_VALUE;
      // Until C2 has compiled the kernels their vectors live on the heap: take the best window.
      for (int window = 0; window < 20 && perCall > 0; window++) {
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 2_000; i++) {
          kernels.activationForward(kind, x, y, n);
          kernels.activationBackward(kind, x, y, dy, dx, n);
          ElementwiseKernels.biasActivate(kind, y, 0, n, bias, 0, 0f);
        }
        perCall = Math.min(perCall, (threads.getCurrentThreadAllocatedBytes() - before) / 2_000);
      }
      assertEquals(0, perCall, kind + ": bytes allocated per forward, backward and fused call");
    }
  }
}
