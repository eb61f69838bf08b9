package dev.marrow.engine.backend;

import dev.marrow.bindings.CudaLibraries;
import dev.marrow.engine.backend.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The CUDA backend for the shared suites, when there is one: by default the host emulation the test
 * phase builds (system property {@code marrow.cuda.emulation}); with {@code
 * -Dmarrow.cuda=required}, NVIDIA's libraries and a real GPU, or the suite fails; with {@code
 * -Dmarrow.cuda=off}, none.
 */
public final class TestBackends {
  private TestBackends() {}

  /** The CPU backend on {@code threads} threads, opened through the registry as users do. */
  public static CpuBackend cpu(int threads) {
    return (CpuBackend)
        Backends.open("cpu", Backends.Options.defaults().threads(threads)).backend();
  }

  /** The CPU backend on every processor, through the registry. */
  public static CpuBackend cpu() {
    return (CpuBackend) Backends.open("cpu").backend();
  }

  /** The CUDA backend the run asks for, or empty. */
  public static Optional<Backend> cuda() {
    return cuda(false);
  }

  /**
   * The CUDA backend the run asks for, or empty; {@code deterministic} for tests that compare two
   * runs bit for bit (cuDNN's fastest backward convolutions accumulate in a varying order).
   */
  public static Optional<Backend> cuda(boolean deterministic) {
    String mode = System.getProperty("marrow.cuda", "emulated");
    if (mode.equals("off")) {
      return Optional.empty();
    }
    if (mode.equals("required")) {
      System.clearProperty(CudaLibraries.EMULATION_PROPERTY);
    } else if (!CudaLibraries.emulationSelected()) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          Backends.open("cuda:0", Backends.Options.defaults().deterministic(deterministic))
              .backend());
    } catch (BackendUnavailableException e) {
      throw new IllegalStateException(
          "marrow.cuda=" + mode + " but CUDA did not open:\n" + e.getMessage(), e);
    }
  }

  /** {@code others} plus the CUDA backend when the run has one. */
  public static List<Backend> withCuda(Backend... others) {
    List<Backend> all = new ArrayList<>(List.of(others));
    cuda().ifPresent(all::add);
    return List.copyOf(all);
  }

  public static boolean isCuda(Backend b) {
    return b.name().startsWith("cuda");
  }

  /** The backend's name, with its threads when more than one: "cpu on 3 threads", "cuda:0". */
  public static String label(Backend b) {
    return b.threads() > 1 ? b.name() + " on " + b.threads() + " threads" : b.name();
  }
}
