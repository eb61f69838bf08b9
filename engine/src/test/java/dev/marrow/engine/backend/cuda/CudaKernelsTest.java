package dev.marrow.engine.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.marrow.bindings.CudaLibraries;
import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.BackendUnavailableException;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What NVRTC is asked to build for a GPU, and that the result loads on the drivers people have: a
 * driver older than the NVRTC found (a pip-installed NVRTC beside the system's driver) refuses its
 * PTX but runs its machine code, as the host emulation's driver does (DESIGN.md §4a).
 */
class CudaKernelsTest {
  /** CUDA 12.6's NVRTC: sm_50 to sm_90. */
  private static final int[] CUDA_12_6 = {50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90};

  /** CUDA 13.0's NVRTC: from Turing (sm_75) to Blackwell. */
  private static final int[] CUDA_13_0 = {75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121};

  @Test
  void aKnownArchitectureGetsMachineCodeANewerOnePtxAndAnOlderOneAClearError() {
    assertEquals(new CudaKernels.Target("sm_90", true), CudaKernels.target(90, CUDA_12_6, "12.6"));
    assertEquals(new CudaKernels.Target("sm_86", true), CudaKernels.target(86, CUDA_12_6, "12.6"));
    assertEquals(
        new CudaKernels.Target("sm_120", true), CudaKernels.target(120, CUDA_13_0, "13.0"));
    // A Blackwell GPU with CUDA 12.6's NVRTC: Hopper's PTX, which the driver compiles forward.
    assertEquals(
        new CudaKernels.Target("compute_90", false), CudaKernels.target(100, CUDA_12_6, "12.6"));
    // An architecture missing from the list between two it has: the newer one below it.
    assertEquals(
        new CudaKernels.Target("compute_87", false),
        CudaKernels.target(89, new int[] {80, 87, 90}, "12.x"));
    IllegalStateException volta =
        assertThrows(IllegalStateException.class, () -> CudaKernels.target(70, CUDA_13_0, "13.0"));
    assertTrue(
        volta.getMessage().contains("NVRTC 13.0 cannot compile for this GPU (sm_70)")
            && volta.getMessage().contains("sm_75 to sm_121")
            && volta.getMessage().contains("MARROW_CUDA_LIB"),
        volta.getMessage());
  }

  @Test
  void theKernelsAreMachineCodeAndStillLoadUnderADriverOlderThanNvrtc() {
    Optional<Backend> opened = TestBackends.cuda();
    assumeTrue(opened.isPresent(), "no CUDA backend in this run");
    String build;
    try (Backend b = opened.get()) {
      build = ((CudaBackend) b).kernelBuild();
    }
    Matcher m = Pattern.compile("NVRTC (\\d+)\\.(\\d+), sm_(\\d+) machine code").matcher(build);
    assertTrue(m.matches(), build);
    assumeTrue(CudaLibraries.emulationSelected(), "only the host emulation's driver can be aged");
    int nvrtcMajor = Integer.parseInt(m.group(1)), nvrtcMinor = Integer.parseInt(m.group(2));

    // The same major version, older minor (12.2 beside 12.6): PTX would be refused, machine code
    // runs. CUDA 13 has no older minor release to play.
    if (nvrtcMinor >= 2) {
      int before = setDriverVersion(nvrtcMajor * 1000 + 20);
      try (Backend b = Backends.open("cuda:0").backend()) {
        Tensor x = b.allocate(Shape.of(4));
        x.copyFrom(Tensor.wrap(new float[] {-2f, -0.5f, 0.5f, 2f}, Shape.of(4)));
        Tensor y = b.allocate(Shape.of(4));
        b.activationForward(Activation.LEAKY_RELU, x, y); // an NVRTC kernel, not cuDNN's
        assertArrayEquals(new float[] {-0.4f, -0.1f, 0.5f, 2f}, y.readArray(), 1e-7f);
      } finally {
        setDriverVersion(before);
      }
    }

    // An older major version (12.8 beside 13.0, 11.8 beside 12.6) runs neither: a clear error.
    int before = setDriverVersion((nvrtcMajor - 1) * 1000 + 80);
    try {
      BackendUnavailableException e =
          assertThrows(BackendUnavailableException.class, () -> Backends.open("cuda:0"));
      String expected =
          "the CUDA driver ("
              + (nvrtcMajor - 1)
              + ".8) cannot load the kernels NVRTC built (NVRTC "
              + nvrtcMajor
              + "."
              + nvrtcMinor
              + ", sm_";
      assertTrue(e.getMessage().contains(expected), e.getMessage());
      assertTrue(e.getMessage().contains("update the driver"), e.getMessage());
    } finally {
      setDriverVersion(before);
    }
    try (Backend b = Backends.open("cuda:0").backend()) {
      assertFalse(((CudaBackend) b).kernelBuild().isEmpty(), "the driver is itself again");
    }
  }

  /** The emulated driver's version from now on (its test hook); returns the one before. */
  private static int setDriverVersion(int version) {
    MemorySegment hook =
        SymbolLookup.loaderLookup().find("marrow_emulation_set_driver_version").orElseThrow();
    MethodHandle set =
        Linker.nativeLinker()
            .downcallHandle(
                hook, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    try {
      return (int) set.invokeExact(version);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }
}
