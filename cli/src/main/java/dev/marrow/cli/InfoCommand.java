package dev.marrow.cli;

import dev.marrow.bindings.CudaLibraries;
import dev.marrow.bindings.LibraryLocator;
import dev.marrow.bindings.NativeLibrary;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.backend.cpu.Vectors;
import dev.marrow.engine.backend.cuda.CudaBackend;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code marrow info}: the JVM, the CPU backend, and which native libraries were found where. */
@Command(
    name = "info",
    mixinStandardHelpOptions = true,
    description = "Print the Java runtime and the compute backends available.")
final class InfoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    var out = spec.commandLine().getOut();
    out.printf("java:     %s (%s)%n", Runtime.version(), System.getProperty("java.vendor"));
    out.printf(
        "os:       %s %s, %d processors%n",
        System.getProperty("os.name"),
        System.getProperty("os.arch"),
        Runtime.getRuntime().availableProcessors());
    try (CpuBackend cpu = new CpuBackend()) {
      out.printf(
          "cpu:      Vector API, %s vectors, %d threads%n", Vectors.describe(), cpu.threads());
    }
    out.println(
        "native libraries (searched: MARROW_CUDA_LIB, CUDA_HOME/lib64, LD_LIBRARY_PATH,"
            + " ldconfig, usual folders):");
    out.print(new LibraryLocator().locate(NativeLibrary.values()).toString().indent(2));
    out.print("cuda:     ");
    StringBuilder why = new StringBuilder();
    try {
      if (CudaLibraries.load(why::append).isPresent()) {
        out.println(String.join("\n          ", CudaBackend.describeDevices()));
      } else {
        List<String> missing = CudaLibraries.locate().missing();
        out.println(
            "unavailable: "
                + (missing.isEmpty()
                    ? why.toString().strip()
                    : "missing " + String.join(", ", missing))
                + ".");
        out.println(
            "          --device auto runs on the CPU; --device cuda exits with this"
                + " diagnostic.");
      }
    } catch (RuntimeException | LinkageError e) {
      out.println("the CUDA libraries were found but failed to start: " + e.getMessage());
    }
    try {
      Backends.Selection auto = Backends.open("auto");
      auto.backend().close();
      out.println("auto:     " + auto.device() + " (" + auto.reason() + ")");
    } catch (RuntimeException e) {
      out.println("auto:     fails: " + e.getMessage());
    }
    out.flush();
    return 0;
  }
}
