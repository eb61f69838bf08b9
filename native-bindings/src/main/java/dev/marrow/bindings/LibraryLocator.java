package dev.marrow.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Finds native libraries without loading anything at class-load time. Search order: {@code
 * MARROW_CUDA_LIB}, {@code CUDA_HOME/lib64}, {@code LD_LIBRARY_PATH}, the ldconfig cache, the usual
 * install folders, then the folders NVIDIA's Python wheels install into ({@code
 * site-packages/nvidia/*}{@code /lib} of the active virtualenv or conda environment, the user's and
 * the system's Python). The answer is a {@link Diagnostic} that says, for each library, where it
 * was found or every place that was searched.
 */
public final class LibraryLocator {
  private static final List<String> USUAL_FOLDERS =
      List.of(
          "/usr/local/cuda/lib64",
          "/usr/local/cuda/targets/x86_64-linux/lib",
          "/usr/lib/x86_64-linux-gnu",
          "/usr/lib/x86_64-linux-gnu/openblas-pthread",
          "/usr/lib64",
          "/usr/lib",
          "/opt/cuda/lib64");

  /** cuDNN 9's sub-libraries, in an order where each one's dependencies come before it. */
  private static final List<String> CUDNN_SUB_LIBRARIES =
      List.of(
          "libcudnn_graph.so.9",
          "libcudnn_engines_runtime_compiled.so.9",
          "libcudnn_engines_precompiled.so.9",
          "libcudnn_heuristic.so.9",
          "libcudnn_ops.so.9",
          "libcudnn_cnn.so.9",
          "libcudnn_adv.so.9");

  /** Where Python keeps packages, below an environment's or the system's prefix. */
  private static final List<String> PYTHON_PREFIXES =
      List.of("/usr/local/lib", "/usr/lib", "/usr/lib64", "/opt/conda/lib");

  private final Map<String, String> env;
  private final boolean useLdconfig;
  private final Path onlyFolder;

  /** A locator reading the process environment and the ldconfig cache. */
  public LibraryLocator() {
    this(System.getenv(), true);
  }

  /** A locator over an explicit environment (tests). */
  public LibraryLocator(Map<String, String> env, boolean useLdconfig) {
    this.env = env;
    this.useLdconfig = useLdconfig;
    this.onlyFolder = null;
  }

  private LibraryLocator(Path onlyFolder) {
    this.env = Map.of();
    this.useLdconfig = false;
    this.onlyFolder = onlyFolder;
  }

  /** A locator that searches one folder and nothing else (the CUDA host emulation's build). */
  public static LibraryLocator inFolder(Path folder) {
    return new LibraryLocator(folder);
  }

  /** Where one library was found, or null with the folders searched. */
  public record Finding(NativeLibrary library, Path path, List<Path> searched) {
    public boolean found() {
      return path != null;
    }

    @Override
    public String toString() {
      String where =
          found() ? path.toString() : "not found (" + String.join(", ", library.sonames()) + ")";
      if (found() && library == NativeLibrary.CUDNN) {
        where += subLibrariesNote(path);
      }
      if (found() && library == NativeLibrary.NVRTC) {
        where +=
            nvrtcBuiltins(path)
                .map(b -> " (+ " + b.getFileName() + " beside it)")
                .orElse(" (no libnvrtc-builtins beside it: NVRTC will look on the linker path)");
      }
      return String.format("%-18s %s", library.displayName() + ":", where);
    }
  }

  /** " (+ graph, ops, cnn beside it)", or a warning when libcudnn.so.9 stands alone. */
  private static String subLibrariesNote(Path libcudnn) {
    List<String> names = new ArrayList<>();
    for (Path p : cudnnSubLibraries(libcudnn)) {
      names.add(p.getFileName().toString().replace("libcudnn_", "").replace(".so.9", ""));
    }
    return names.isEmpty()
        ? " (no sub-libraries beside it: cuDNN will look for them on the linker path)"
        : " (+ " + String.join(", ", names) + " beside it)";
  }

  /**
   * The cuDNN 9 sub-libraries ({@code libcudnn_graph/ops/cnn/engines_*.so.9}) in the folder of
   * {@code libcudnn}, in load order. libcudnn.so.9 opens them by soname at first use, which finds
   * them only on the linker path, or already loaded: the backend loads them from here first.
   */
  public static List<Path> cudnnSubLibraries(Path libcudnn) {
    Path folder = libcudnn.toAbsolutePath().getParent();
    List<Path> found = new ArrayList<>();
    for (String name : CUDNN_SUB_LIBRARIES) {
      Path p = folder.resolve(name);
      if (Files.exists(p)) {
        found.add(p);
      }
    }
    return found;
  }

  /**
   * NVRTC's builtins library ({@code libnvrtc-builtins.so.MAJOR.MINOR}, of libnvrtc's major
   * version) in the folder of {@code libnvrtc}, or empty. NVRTC opens it by soname when it
   * compiles, which finds it only on the linker path or already loaded — a folder found any other
   * way (a Python wheel's, {@code MARROW_CUDA_LIB}) fails every compilation with
   * NVRTC_ERROR_BUILTIN_OPERATION_FAILURE — so the backend loads it from here first. Of several
   * names for it (the soname and the file it links to), the shortest.
   */
  public static Optional<Path> nvrtcBuiltins(Path libnvrtc) {
    String name = libnvrtc.getFileName().toString(); // libnvrtc.so.12
    String major = name.substring(name.lastIndexOf('.') + 1);
    String prefix = "libnvrtc-builtins.so." + major + ".";
    Path folder = libnvrtc.toAbsolutePath().getParent();
    try (var files = Files.list(folder)) {
      return files
          .filter(p -> p.getFileName().toString().startsWith(prefix))
          .min(
              java.util.Comparator.comparingInt((Path p) -> p.getFileName().toString().length())
                  .thenComparing(p -> p.getFileName().toString()));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The findings for several libraries, printable as the diagnostic users see. */
  public record Diagnostic(Map<NativeLibrary, Finding> findings) {
    public boolean allFound() {
      return findings.values().stream().allMatch(Finding::found);
    }

    public Optional<Path> path(NativeLibrary library) {
      Finding f = findings.get(library);
      return f == null ? Optional.empty() : Optional.ofNullable(f.path());
    }

    /** Display names of the libraries that were not found. */
    public List<String> missing() {
      return findings.values().stream()
          .filter(f -> !f.found())
          .map(f -> f.library().displayName())
          .toList();
    }

    /** One line per library, then the folders searched (once: every search walks the same). */
    @Override
    public String toString() {
      StringBuilder b = new StringBuilder();
      findings.values().forEach(f -> b.append(f).append('\n'));
      findings.values().stream()
          .filter(f -> !f.found())
          .findFirst()
          .ifPresent(
              f ->
                  b.append("searched: ")
                      .append(f.searched().isEmpty() ? "no folders" : f.searched())
                      .append('\n'));
      return b.toString();
    }
  }

  public Diagnostic locate(NativeLibrary... libraries) {
    List<Path> folders = searchFolders();
    Map<NativeLibrary, Finding> findings = new EnumMap<>(NativeLibrary.class);
    for (NativeLibrary lib : libraries) {
      findings.put(lib, find(lib, folders));
    }
    return new Diagnostic(findings);
  }

  /**
   * Loads a located library into {@code arena} (unloaded when the arena closes) and returns its
   * symbols. Throws {@link IllegalStateException} with the diagnostic when it was not found.
   */
  public static SymbolLookup load(Diagnostic diagnostic, NativeLibrary library, Arena arena) {
    Path path =
        diagnostic
            .path(library)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        library.displayName() + " is not available:\n" + diagnostic));
    return SymbolLookup.libraryLookup(path, arena);
  }

  private Finding find(NativeLibrary lib, List<Path> folders) {
    for (String soname : lib.sonames()) {
      for (Path folder : folders) {
        Path candidate = folder.resolve(soname);
        if (Files.isRegularFile(candidate)
            || Files.isSymbolicLink(candidate) && Files.exists(candidate)) {
          return new Finding(lib, candidate, folders);
        }
      }
    }
    return new Finding(lib, null, folders);
  }

  List<Path> searchFolders() {
    if (onlyFolder != null) {
      return Files.isDirectory(onlyFolder) ? List.of(onlyFolder) : List.of();
    }
    LinkedHashSet<Path> folders = new LinkedHashSet<>();
    addPathList(folders, env.get("MARROW_CUDA_LIB"));
    String cudaHome = env.get("CUDA_HOME");
    if (cudaHome != null && !cudaHome.isBlank()) {
      folders.add(Path.of(cudaHome, "lib64"));
    }
    addPathList(folders, env.get("LD_LIBRARY_PATH"));
    if (useLdconfig) {
      folders.addAll(ldconfigFolders());
    }
    USUAL_FOLDERS.forEach(f -> folders.add(Path.of(f)));
    folders.addAll(pythonWheelFolders());
    List<Path> existing = new ArrayList<>();
    for (Path p : folders) {
      if (Files.isDirectory(p)) {
        existing.add(p);
      }
    }
    return existing;
  }

  /**
   * {@code nvidia/*}{@code /lib} in every site-packages the environment points at: pip's {@code
   * nvidia-cudnn-cu12}, {@code nvidia-cublas-cu12}, … (and the cu13 wheels' {@code
   * nvidia/cu13/lib}) put their libraries there, with no entry in the ldconfig cache.
   */
  List<Path> pythonWheelFolders() {
    List<Path> sitePackages = new ArrayList<>();
    addPathList(sitePackages, env.get("PYTHONPATH"));
    for (String prefix : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
      String p = env.get(prefix);
      if (p != null && !p.isBlank()) {
        sitePackages.addAll(pythonPackageFolders(Path.of(p, "lib")));
      }
    }
    String home = env.get("HOME");
    if (home != null && !home.isBlank()) {
      sitePackages.addAll(pythonPackageFolders(Path.of(home, ".local", "lib")));
    }
    if (useLdconfig) { // the system's Python only for the real search, not for tests' locators
      PYTHON_PREFIXES.forEach(p -> sitePackages.addAll(pythonPackageFolders(Path.of(p))));
      sitePackages.add(Path.of("/usr/lib/python3/dist-packages"));
    }
    List<Path> folders = new ArrayList<>();
    for (Path site : sitePackages) {
      folders.addAll(sortedChildren(site.resolve("nvidia"), "lib"));
    }
    return folders;
  }

  // lib/python3.*/{site,dist}-packages below a prefix's lib folder.
  private static List<Path> pythonPackageFolders(Path lib) {
    List<Path> out = new ArrayList<>();
    try (var pythons = Files.newDirectoryStream(lib, "python3*")) {
      for (Path python : pythons) {
        out.add(python.resolve("site-packages"));
        out.add(python.resolve("dist-packages"));
      }
    } catch (IOException | RuntimeException e) {
      // no such folder: nothing to search there
    }
    out.sort(null);
    return out;
  }

  // folder/*/child, sorted, for the child folders that exist.
  private static List<Path> sortedChildren(Path folder, String child) {
    List<Path> out = new ArrayList<>();
    try (var children = Files.newDirectoryStream(folder)) {
      for (Path c : children) {
        if (Files.isDirectory(c.resolve(child))) {
          out.add(c.resolve(child));
        }
      }
    } catch (IOException | RuntimeException e) {
      // no such folder
    }
    out.sort(null);
    return out;
  }

  private static void addPathList(Collection<Path> folders, String list) {
    if (list == null) {
      return;
    }
    for (String part : list.split(":")) {
      if (!part.isBlank()) {
        folders.add(Path.of(part));
      }
    }
  }

  // The folders of every library in `ldconfig -p`; empty when ldconfig is absent or slow.
  private static List<Path> ldconfigFolders() {
    List<Path> out = new ArrayList<>();
    for (String ldconfig : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig")) {
      if (!Files.isExecutable(Path.of(ldconfig))) {
        continue;
      }
      try {
        Process p = new ProcessBuilder(ldconfig, "-p").redirectErrorStream(true).start();
        String text;
        try (InputStream in = p.getInputStream()) {
          text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          continue;
        }
        for (String line : text.split("\n")) {
          int arrow = line.indexOf("=> ");
          if (arrow > 0) {
            Path parent = Path.of(line.substring(arrow + 3).strip()).getParent();
            if (parent != null && !out.contains(parent)) {
              out.add(parent);
            }
          }
        }
        return out;
      } catch (IOException e) {
        return out;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return out;
      }
    }
    return out;
  }
}
