package dev.marrow.cli;

import static dev.marrow.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.marrow.bindings.CudaLibraries;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --device}: a missing CUDA is a clear exit 2, auto falls back, cuda trains on CUDA. The
 * emulated run goes last: once a process has loaded the emulation it keeps it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeviceOptionTest {
  @TempDir Path tmp;

  @Test
  void cudaWithoutTheLibrariesExitsTwoWithTheLocatorsDiagnostic() {
    assumeFalse(CudaLibraries.locate().allFound(), "this machine has CUDA");
    CliTest.Result r =
        run(
            "train",
            "--model",
            "nielsen",
            "--device",
            "cuda",
            "--out",
            tmp.resolve("run").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(
        r.err().contains("--device cuda: device cuda:0 is not available")
            && r.err().contains("cuDNN 9:")
            && r.err().contains("searched:"),
        r.err());
    assertTrue(!Files.exists(tmp.resolve("run")), "a failed start leaves no run folder");

    CliTest.Result info = run("info");
    assertEquals(0, info.code());
    assertTrue(info.out().contains("cuda:     unavailable: missing"), info.out());

    CliTest.Result bad = run("evaluate", "--model", tmp.toString(), "--device", "tpu");
    assertEquals(2, bad.code());
    assertTrue(
        bad.err().contains("unknown device 'tpu': expected auto, cpu, cuda or cuda:N"), bad.err());
  }

  @Test
  void strictDeviceFailsInsteadOfFallingBack() {
    assumeFalse(CudaLibraries.locate().allFound(), "this machine has CUDA");
    CliTest.Result r =
        run(
            "train",
            "--model",
            "nielsen",
            "--strict-device",
            "--out",
            tmp.resolve("strict").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(
        r.err().contains("strict device selection: auto found no usable CUDA")
            && r.err().contains("searched:"),
        r.err());
    assertTrue(!Files.exists(tmp.resolve("strict")), "a failed start leaves no run folder");
  }

  @Test
  void autoFallsBackToTheCpuWithOneLine() throws Exception {
    assumeFalse(CudaLibraries.locate().allFound(), "this machine has CUDA");
    Path out = tmp.resolve("auto");
    CliTest.Result r =
        run("train", "--model", "nielsen", "--epochs", "1", "--no-plots", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(1, r.err().lines().filter(l -> l.contains("no usable CUDA")).count(), r.err());
    assertEquals(
        "cpu",
        new ObjectMapper().readTree(out.resolve("metrics.json").toFile()).get("device").asText());
  }

  /**
   * The same run on the emulated CUDA backend (NVIDIA's entry points on the host) and the CPU.
   * After 6,000 SGD steps at learning rate 3 the float rounding of the two backends' different
   * summation orders has grown to ~0.2 % of the loss; a wrong kernel is off by far more.
   */
  @Test
  @Order(Integer.MAX_VALUE)
  void cudaTrainsLikeTheCpu() throws Exception {
    String folder = System.getProperty("marrow.test.cuda.emulation");
    assumeTrue(
        folder != null && Files.isDirectory(Path.of(folder)),
        "the engine's test phase builds the CUDA host emulation");
    assumeTrue(
        System.getProperty("marrow.cuda", "emulated").equals("emulated"),
        "this test selects the emulation itself");
    Path cpu = tmp.resolve("cpu"), cuda = tmp.resolve("cuda");
    CliTest.Result onCpu =
        run(
            "train",
            "--model",
            "nielsen",
            "--epochs",
            "1",
            "--no-plots",
            "--device",
            "cpu",
            "--out",
            cpu.toString());
    assertEquals(0, onCpu.code(), onCpu.err());
    System.setProperty(CudaLibraries.EMULATION_PROPERTY, folder);
    try {
      CliTest.Result onCuda =
          run(
              "train",
              "--model",
              "nielsen",
              "--epochs",
              "1",
              "--no-plots",
              "--device",
              "cuda:0",
              "--deterministic", // only deterministic cuDNN algorithms: same result, accepted
              "--out",
              cuda.toString());
      assertEquals(0, onCuda.code(), onCuda.err());
      assertTrue(onCuda.out().contains("device cuda:0"), onCuda.out());
      CliTest.Result info = run("info");
      assertTrue(
          info.out().contains("cuda:     CUDA runtime 12.6, driver 12.6, cuDNN 9.6.0")
              && info.out().contains("cuda:0 Marrow CUDA host emulation (compute capability 8.0"),
          info.out());
    } finally {
      System.clearProperty(CudaLibraries.EMULATION_PROPERTY);
    }
    ObjectMapper json = new ObjectMapper();
    JsonNode a = json.readTree(cpu.resolve("metrics.json").toFile());
    JsonNode b = json.readTree(cuda.resolve("metrics.json").toFile());
    assertEquals("cuda:0", b.get("device").asText());
    assertEquals(
        a.get("test_loss").asDouble(),
        b.get("test_loss").asDouble(),
        1e-2 * a.get("test_loss").asDouble());
    assertEquals(a.get("test_accuracy").asDouble(), b.get("test_accuracy").asDouble(), 5e-3);
  }
}
