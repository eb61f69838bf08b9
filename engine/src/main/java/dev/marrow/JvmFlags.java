package dev.marrow;

/**
 * Checks, on the engine's first use, that the JVM was started with what Marrow needs, and says
 * exactly how to start it otherwise. Without the check a missing {@code --add-modules
 * jdk.incubator.vector} surfaces as a bare {@code NoClassDefFoundError:
 * jdk/incubator/vector/Vector} somewhere deep in a kernel. This class itself must not touch the
 * Vector API.
 *
 * <p>An application that is itself a named module and {@code requires dev.marrow.engine} needs no
 * {@code --add-modules}: the engine's module descriptor requires {@code jdk.incubator.vector}.
 */
public final class JvmFlags {
  /** The flags for an application on the class path. */
  public static final String CLASS_PATH_FLAGS =
      "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

  /**
   * The flags for an application on the module path: only native access, as the engine's module
   * requires {@code jdk.incubator.vector} itself.
   */
  public static final String MODULE_PATH_FLAGS =
      "--enable-native-access=dev.marrow.bindings,dev.marrow.engine";

  private static final boolean VECTOR_API =
      ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

  private JvmFlags() {}

  /** Throws {@link MissingJvmFlagException} when the Vector API module is not loaded. */
  public static void requireVectorApi() {
    if (!VECTOR_API) {
      throw new MissingJvmFlagException(
          "Marrow's CPU kernels use the Vector API, an incubator"
              + " module the JVM loads only when asked (module jdk.incubator.vector is not in the boot"
              + " layer).\n"
              + howTo());
    }
  }

  /**
   * Throws {@link MissingJvmFlagException} when {@code module} (the one calling native code: the
   * CUDA bindings) may not call restricted methods such as {@code Linker.downcallHandle}.
   */
  public static void requireNativeAccess(Module module) {
    if (!module.isNativeAccessEnabled()) {
      throw new MissingJvmFlagException(
          "Marrow's CUDA backend calls cuBLAS and cuDNN through the"
              + " Foreign Function & Memory API, and native access is not enabled for "
              + (module.isNamed() ? "module " + module.getName() : "the class path")
              + ".\n"
              + howTo());
    }
  }

  /** The exact flags for java, Maven, Gradle and IDEs. */
  public static String howTo() {
    return String.join(
        "\n",
        "Start the JVM with these flags:",
        "  java (class path):  java " + CLASS_PATH_FLAGS + " -cp ... Main",
        "  java (module path): java "
            + MODULE_PATH_FLAGS
            + " -p ... -m app/app.Main (an"
            + " application module that requires dev.marrow.engine gets the Vector API with it)",
        "  Maven Surefire:     <argLine>"
            + CLASS_PATH_FLAGS
            + "</argLine> in"
            + " maven-surefire-plugin's <configuration>; for mvn exec:java put the flags in"
            + " .mvn/jvm.config",
        "  Gradle:             application { applicationDefaultJvmArgs = ['--add-modules',"
            + " 'jdk.incubator.vector', '--enable-native-access=ALL-UNNAMED'] } and"
            + " tasks.withType(Test).configureEach { jvmArgs(<the same>) }",
        "  IDE (IntelliJ, Eclipse, VS Code): add to the run configuration's VM options: "
            + CLASS_PATH_FLAGS,
        "(javac needs --add-modules jdk.incubator.vector only if your code uses the Vector API"
            + " itself.)");
  }
}
