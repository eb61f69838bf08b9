package dev.marrow.engine.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.marrow.bindings.CudaLibraries;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The backend registry: what each device string opens, and why; what it refuses, and why. */
class BackendsTest {
  @AfterEach
  void clearOverrides() {
    System.clearProperty(Backends.DEVICE_PROPERTY);
    System.clearProperty(Backends.STRICT_PROPERTY);
  }

  @Test
  void cpuOpensTheCpuWithTheThreadsAskedFor() {
    Backends.Selection s = Backends.open(" CPU ", Backends.Options.defaults().threads(2));
    try (Backend b = s.backend()) {
      assertEquals("cpu", b.name());
      assertEquals("cpu", s.device());
      assertFalse(s.fellBack());
      assertEquals(2, ((dev.marrow.engine.backend.cpu.CpuBackend) b).threads());
    }
  }

  @Test
  void unknownDevicesAreRejectedWithTheChoices() {
    for (String bad : new String[] {"tpu", "cuda:", "cuda:-1", "gpu0", ""}) {
      var e = assertThrows(IllegalArgumentException.class, () -> Backends.open(bad));
      assertTrue(
          e.getMessage().contains("unknown device '" + bad + "'")
              && e.getMessage().contains("expected auto, cpu, cuda or cuda:N"),
          e.getMessage());
    }
  }

  @Test
  void theSystemPropertyOverridesTheCaller() {
    System.setProperty(Backends.DEVICE_PROPERTY, "cpu");
    Backends.Selection s = Backends.open("cuda:3");
    try (Backend b = s.backend()) {
      assertEquals("cpu", b.name());
      assertTrue(s.reason().contains("-Dmarrow.device"), s.reason());
    }
    System.setProperty(Backends.DEVICE_PROPERTY, "abacus");
    var e = assertThrows(IllegalArgumentException.class, () -> Backends.open("cpu"));
    assertTrue(e.getMessage().contains("'abacus' (from -Dmarrow.device)"), e.getMessage());
  }

  @Test
  void autoWithoutCudaFallsBackAndSaysWhyUnlessStrict() {
    assumeFalse(
        CudaLibraries.emulationSelected() || CudaLibraries.locate().allFound(),
        "this run has CUDA (real or emulated)");
    Backends.Selection s = Backends.open("auto");
    try (Backend b = s.backend()) {
      assertEquals("cpu", b.name());
      assertTrue(s.fellBack() && s.reason().contains("auto found no usable CUDA"), s.reason());
    }
    var strict =
        assertThrows(
            BackendUnavailableException.class,
            () -> Backends.open("auto", Backends.Options.defaults().strict(true)));
    assertTrue(
        strict.getMessage().contains("strict device selection")
            && strict.getMessage().contains("searched"),
        strict.getMessage());
    System.setProperty(Backends.STRICT_PROPERTY, "true");
    assertThrows(BackendUnavailableException.class, () -> Backends.open("auto"));
    var cuda = assertThrows(BackendUnavailableException.class, () -> Backends.open("cuda"));
    assertTrue(cuda.getMessage().contains("device cuda:0 is not available"), cuda.getMessage());
  }

  /** Through the host emulation, which reports one device, as a one-GPU machine does. */
  @Test
  void aGpuThatIsNotThereIsNamedWithTheDevicesThatAre() {
    assumeTrue(CudaLibraries.emulationSelected(), "the CUDA host emulation was not built");
    Backends.Selection s = Backends.open("cuda:0");
    try (Backend b = s.backend()) {
      assertTrue(b.name().startsWith("cuda"), b.name());
      assertEquals("cuda:0", s.device());
    }
    Backends.Selection auto = Backends.open("auto");
    try (Backend b = auto.backend()) {
      assertEquals("cuda:0", auto.device());
      assertFalse(auto.fellBack());
    }
    var e = assertThrows(BackendUnavailableException.class, () -> Backends.open("cuda:7"));
    assertTrue(
        e.getMessage().contains("device cuda:7 is not available")
            && e.getMessage().contains("there is no device cuda:7 (devices: 0..0)"),
        e.getMessage());
  }
}
