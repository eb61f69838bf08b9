package dev.marrow.engine.backend;

import dev.marrow.JvmFlags;
import dev.marrow.bindings.CudaLibraries;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.backend.cuda.CudaBackend;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one way to get a backend: {@code Backends.open("auto" | "cpu" | "cuda" | "cuda:N")}.
 *
 * <ul>
 *   <li>{@code cpu}: the Vector API backend on {@link Options#threads()} threads.
 *   <li>{@code cuda}, {@code cuda:N}: that GPU, or a {@link BackendUnavailableException} carrying
 *       the library locator's diagnostic (what was searched, what is missing, which devices exist).
 *   <li>{@code auto}: CUDA when its libraries and a device are there, else the CPU, and the {@link
 *       Selection} says why. With {@link Options#strict()} {@code auto} fails instead of falling
 *       back (DL4J's "the cuDNN helper was silently not used" never happens here).
 * </ul>
 *
 * The system property {@code -Dmarrow.device=...} overrides whatever the caller asked for, so a
 * deployed application can be moved to another device without a code change; {@code
 * -Dmarrow.strictDevice=true} makes every open strict, {@code -Dmarrow.deterministic=true} every
 * open deterministic. Each distinct choice is logged once, at INFO, through {@link System.Logger}
 * ({@code dev.marrow.engine.backend}).
 */
public final class Backends {
  /** System property that overrides the device every caller asks for. */
  public static final String DEVICE_PROPERTY = "marrow.device";

  /** System property that makes every open strict. */
  public static final String STRICT_PROPERTY = "marrow.strictDevice";

  /** System property that makes every open deterministic. */
  public static final String DETERMINISTIC_PROPERTY = "marrow.deterministic";

  private static final Pattern CUDA = Pattern.compile("cuda(?::(\\d{1,9}))?");
  private static final System.Logger LOG = System.getLogger(Backends.class.getPackageName());
  private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

  private Backends() {}

  /**
   * How to open: CPU threads, whether {@code auto} may fall back to the CPU, and whether the GPU
   * may only run deterministic algorithms (cuDNN's fastest backward convolutions accumulate with
   * atomics, in an order that changes from run to run; the CPU backend is deterministic anyway).
   */
  public record Options(int threads, boolean strict, boolean deterministic) {
    public Options {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be >= 1, got " + threads);
      }
    }

    public Options(int threads, boolean strict) {
      this(threads, strict, false);
    }

    /**
     * Every processor, not strict, not deterministic (unless {@code -Dmarrow.strictDevice=true},
     * {@code -Dmarrow.deterministic=true}).
     */
    public static Options defaults() {
      return new Options(Runtime.getRuntime().availableProcessors(), false, false);
    }

    public Options threads(int threads) {
      return new Options(threads, strict, deterministic);
    }

    public Options strict(boolean strict) {
      return new Options(threads, strict, deterministic);
    }

    public Options deterministic(boolean deterministic) {
      return new Options(threads, strict, deterministic);
    }
  }

  /**
   * An opened backend, the device string it answers to ({@code cpu}, {@code cuda:0}) and why it was
   * chosen; {@code fellBack} is true when {@code auto} wanted CUDA and got the CPU. The backend is
   * the caller's to close.
   */
  public record Selection(Backend backend, String device, String reason, boolean fellBack) {}

  /** {@link #open(String, Options)} with {@link Options#defaults()}. */
  public static Selection open(String device) {
    return open(device, Options.defaults());
  }

  /**
   * Opens the backend for {@code device} ({@code auto}, {@code cpu}, {@code cuda}, {@code cuda:N};
   * case and surrounding blanks ignored), or for {@code -Dmarrow.device} when set.
   *
   * @throws IllegalArgumentException for a device string that is none of those
   * @throws BackendUnavailableException when the device asked for cannot be opened (or, in strict
   *     mode, when {@code auto} finds no CUDA)
   */
  public static Selection open(String device, Options options) {
    JvmFlags.requireVectorApi(); // before any kernel class loads, with the flags to add
    String override = System.getProperty(DEVICE_PROPERTY, "").strip();
    String asked = override.isEmpty() ? device : override;
    String source = override.isEmpty() ? "" : " (from -D" + DEVICE_PROPERTY + ")";
    boolean strict = options.strict() || Boolean.getBoolean(STRICT_PROPERTY);
    boolean deterministic = options.deterministic() || Boolean.getBoolean(DETERMINISTIC_PROPERTY);
    Selection s = select(parse(asked, source), source, options.threads(), strict, deterministic);
    if (LOGGED.add(s.device() + "|" + s.reason())) {
      LOG.log(System.Logger.Level.INFO, "Marrow backend {0}: {1}", s.device(), s.reason());
    }
    return s;
  }

  /** The device string, normalised: "auto", "cpu" or "cuda:N". */
  private static String parse(String device, String source) {
    if (device == null) {
      throw new IllegalArgumentException("device must be auto, cpu, cuda or cuda:N, got null");
    }
    String d = device.strip().toLowerCase(Locale.ROOT);
    if (d.equals("auto") || d.equals("cpu")) {
      return d;
    }
    Matcher m = CUDA.matcher(d);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "unknown device '" + device + "'" + source + ": expected auto, cpu, cuda or cuda:N");
    }
    return "cuda:" + (m.group(1) == null ? 0 : Integer.parseInt(m.group(1)));
  }

  private static Selection select(
      String device, String source, int threads, boolean strict, boolean deterministic) {
    if (device.equals("cpu")) {
      return new Selection(new CpuBackend(threads), "cpu", "cpu asked for" + source, false);
    }
    int ordinal = device.equals("auto") ? 0 : Integer.parseInt(device.substring(5));
    StringBuilder why = new StringBuilder();
    Optional<CudaBackend> cuda = openCuda(ordinal, deterministic, why);
    if (cuda.isPresent()) {
      String reason =
          device.equals("auto")
              ? "auto found CUDA libraries and a device" + source
              : device + " asked for" + source;
      return new Selection(cuda.get(), "cuda:" + ordinal, reason, false);
    }
    if (!device.equals("auto") || strict) {
      throw new BackendUnavailableException(
          (device.equals("auto")
                  ? "strict device selection: auto found no usable CUDA"
                  : "device " + device + source + " is not available")
              + ".\n"
              + why.toString().strip()
              + "\nInstall the NVIDIA driver, the CUDA 12 or 13 runtime, cuBLAS and cuDNN 9 (or"
              + " point MARROW_CUDA_LIB at their folder), or use the device cpu. 'marrow info'"
              + " prints the whole diagnostic.");
    }
    String reason = "auto found no usable CUDA (" + firstLine(why) + "); running on the CPU";
    return new Selection(new CpuBackend(threads), "cpu", reason + source, true);
  }

  private static Optional<CudaBackend> openCuda(
      int ordinal, boolean deterministic, StringBuilder why) {
    try {
      return CudaBackend.open(ordinal, deterministic, why::append);
    } catch (RuntimeException | LinkageError e) { // a broken install: say so, don't crash
      why.append("CUDA failed to start: ").append(e.getMessage());
      return Optional.empty();
    }
  }

  /** "missing cuBLAS, cuDNN 9" when libraries are absent, else the first line of the reason. */
  private static String firstLine(CharSequence s) {
    List<String> missing = CudaLibraries.locate().missing();
    if (!missing.isEmpty()) {
      return "missing " + String.join(", ", missing);
    }
    String text = s.toString().strip();
    int nl = text.indexOf('\n');
    return nl < 0 ? text : text.substring(0, nl);
  }
}
