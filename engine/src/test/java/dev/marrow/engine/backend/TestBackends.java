package dev.marrow.engine.backend;

import dev.marrow.bindings.CudaLibraries;
import dev.marrow.engine.backend.cuda.CudaBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The CUDA backend for the shared suites, when there is one: by default the host emulation the
 * test phase builds (system property {@code marrow.cuda.emulation}); with {@code
 * -Dmarrow.cuda=required}, NVIDIA's libraries and a real GPU, or the suite fails; with {@code
 * -Dmarrow.cuda=off}, none.
 */
public final class TestBackends {
  private TestBackends() {}

  /** The CUDA backend the run asks for, or empty. */
  public static Optional<Backend> cuda() {
    String mode = System.getProperty("marrow.cuda", "emulated");
    if (mode.equals("off")) {
      return Optional.empty();
    }
    if (mode.equals("required")) {
      System.clearProperty(CudaLibraries.EMULATION_PROPERTY);
    } else if (!CudaLibraries.emulationSelected()) {
      return Optional.empty();
    }
    StringBuilder why = new StringBuilder();
    Optional<CudaBackend> b = CudaBackend.open(0, why::append);
    if (b.isEmpty()) {
      throw new IllegalStateException("marrow.cuda=" + mode + " but CUDA did not open:\n" + why);
    }
    return Optional.of(b.get());
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
}
