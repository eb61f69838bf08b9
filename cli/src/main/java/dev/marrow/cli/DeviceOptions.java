package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.backend.cuda.CudaBackend;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/** {@code --device auto|cpu|cuda[:N]}, shared by every command that runs a model. */
final class DeviceOptions {
  private static final Pattern CUDA = Pattern.compile("cuda(?::(\\d+))?");

  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "auto",
      description = "auto (CUDA when its libraries and a GPU are there, else the CPU), cpu, cuda"
          + " or cuda:N. Default: ${DEFAULT-VALUE}.")
  String device = "auto";

  /**
   * Opens the backend asked for. {@code cuda} without CUDA is a user error carrying the library
   * locator's diagnostic; {@code auto} then falls back to the CPU with a one-line notice on {@code
   * err}.
   */
  Backend open(int threads, PrintWriter err) {
    String d = device.strip().toLowerCase(java.util.Locale.ROOT);
    if (d.equals("cpu")) {
      return new CpuBackend(threads);
    }
    Matcher m = CUDA.matcher(d);
    if (!d.equals("auto") && !m.matches()) {
      throw new UserError("--device must be auto, cpu, cuda or cuda:N, got '" + device + "'");
    }
    int ordinal = d.equals("auto") || m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
    StringBuilder why = new StringBuilder();
    Optional<CudaBackend> cuda = openCuda(ordinal, why);
    if (cuda.isPresent()) {
      return cuda.get();
    }
    if (!d.equals("auto")) {
      throw new UserError("--device " + device + ": CUDA is not available here.\n" + why
          + "\nInstall the NVIDIA driver, CUDA 12 runtime, cuBLAS and cuDNN 9 (or point"
          + " MARROW_CUDA_LIB at their folder), or use --device cpu. 'marrow info' shows the"
          + " whole diagnostic.");
    }
    err.println("marrow: no usable CUDA (" + firstLine(why) + "); running on the CPU");
    err.flush();
    return new CpuBackend(threads);
  }

  private static Optional<CudaBackend> openCuda(int ordinal, StringBuilder why) {
    try {
      return CudaBackend.open(ordinal, why::append);
    } catch (RuntimeException | LinkageError e) { // a broken install: say so, don't crash
      why.append("CUDA failed to start: ").append(e.getMessage());
      return Optional.empty();
    }
  }

  /** "missing cuBLAS, cuDNN 9" when libraries are absent, else the first line of the reason. */
  private static String firstLine(CharSequence s) {
    java.util.List<String> missing = dev.marrow.bindings.CudaLibraries.locate().missing();
    if (!missing.isEmpty()) {
      return "missing " + String.join(", ", missing);
    }
    String text = s.toString().strip();
    int nl = text.indexOf('\n');
    return nl < 0 ? text : text.substring(0, nl);
  }
}
