package dev.marrow.bindings;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Finds native libraries without loading anything at class-load time. Search order: {@code
 * MARROW_CUDA_LIB}, {@code CUDA_HOME/lib64}, {@code LD_LIBRARY_PATH}, the ldconfig cache, then the
 * usual install folders. The answer is a {@link Diagnostic} that says, for each library, where it
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
      return String.format(
          "%-18s %s",
          library.displayName() + ":",
          found() ? path : "not found (" + String.join(", ", library.sonames()) + ")");
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
    List<Path> existing = new ArrayList<>();
    for (Path p : folders) {
      if (Files.isDirectory(p)) {
        existing.add(p);
      }
    }
    return existing;
  }

  private static void addPathList(LinkedHashSet<Path> folders, String list) {
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
