package dev.marrow.bindings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Loads the CUDA driver, runtime, NVRTC, cuBLAS and cuDNN into this class loader, where the
 * jextract-generated bindings (and, for the driver and NVRTC, JCuda's JNI libraries, which link
 * them by soname) find their symbols. Nothing is loaded before {@link #load} is called.
 *
 * <p>The libraries come from the {@link LibraryLocator}, or — only when the system property {@value
 * #EMULATION_PROPERTY} names a folder — from the host emulation the test phase builds there. The
 * production search never looks in that folder.
 */
public final class CudaLibraries {
  /** System property naming the folder of the CUDA host emulation (tests only). */
  public static final String EMULATION_PROPERTY = "marrow.cuda.emulation";

  /** In load order: the driver first, because the runtime and JCuda's JNI code link it. */
  public static final NativeLibrary[] ALL = {
    NativeLibrary.CUDA_DRIVER,
    NativeLibrary.CUDA_RUNTIME,
    NativeLibrary.NVRTC,
    NativeLibrary.CUBLAS,
    NativeLibrary.CUDNN
  };

  private static CudaLibraries loaded;

  private final LibraryLocator.Diagnostic diagnostic;
  private final boolean emulated;

  private CudaLibraries(LibraryLocator.Diagnostic diagnostic, boolean emulated) {
    this.diagnostic = diagnostic;
    this.emulated = emulated;
  }

  /** Where each library was found or searched for, without loading anything. */
  public static LibraryLocator.Diagnostic locate() {
    return locator().locate(ALL);
  }

  /** True when the host emulation was selected by {@value #EMULATION_PROPERTY}. */
  public static boolean emulationSelected() {
    String folder = System.getProperty(EMULATION_PROPERTY);
    return folder != null && !folder.isBlank();
  }

  /**
   * Loads every library once per process, or returns empty and passes the reason (the locator's
   * diagnostic, or the loader's error) to {@code whyNot}.
   */
  public static synchronized Optional<CudaLibraries> load(Consumer<String> whyNot) {
    if (loaded != null) {
      if (loaded.emulated == emulationSelected()) {
        return Optional.of(loaded);
      }
      // Both sets use NVIDIA's sonames, so a process holds one or the other, never both.
      whyNot.accept(
          "this process loaded the "
              + (loaded.emulated ? "CUDA host emulation" : "real CUDA libraries")
              + " earlier; it cannot switch to the "
              + (loaded.emulated ? "real libraries" : "emulation"));
      return Optional.empty();
    }
    LibraryLocator.Diagnostic d = locate();
    if (!d.allFound()) {
      whyNot.accept(d.toString().strip());
      return Optional.empty();
    }
    for (NativeLibrary lib : ALL) {
      Path path = d.path(lib).orElseThrow();
      List<Path> files = new ArrayList<>(List.of(path));
      if (lib == NativeLibrary.CUDNN) {
        // libcudnn.so.9 opens its sub-libraries by soname at first use; loaded from its folder
        // here, they are found even when that folder is not on the linker path.
        files.addAll(LibraryLocator.cudnnSubLibraries(path));
      }
      if (lib == NativeLibrary.NVRTC) {
        // The same for NVRTC's builtins, which it opens by soname at every compilation.
        LibraryLocator.nvrtcBuiltins(path).ifPresent(b -> files.addFirst(b));
      }
      for (Path file : files) {
        try {
          System.load(file.toString());
        } catch (UnsatisfiedLinkError e) {
          whyNot.accept(lib.displayName() + " at " + file + " did not load: " + e.getMessage());
          return Optional.empty();
        }
      }
    }
    loaded = new CudaLibraries(d, emulationSelected());
    return Optional.of(loaded);
  }

  public LibraryLocator.Diagnostic diagnostic() {
    return diagnostic;
  }

  /** True when these are the host emulation's libraries, not NVIDIA's. */
  public boolean emulated() {
    return emulated;
  }

  private static LibraryLocator locator() {
    return emulationSelected()
        ? LibraryLocator.inFolder(Path.of(System.getProperty(EMULATION_PROPERTY)))
        : new LibraryLocator();
  }
}
