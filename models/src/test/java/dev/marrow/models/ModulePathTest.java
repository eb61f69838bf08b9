package dev.marrow.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.lang.module.FindException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Marrow as a dependency: a small application, compiled against Marrow's jars (or target/classes
 * folders, as the reactor hands them to this test), runs the same on the class path and on the
 * module path, and on the module path it cannot reach the engine's internal packages.
 *
 * <p>The unit tests themselves run on the class path, so this is the one place the module
 * descriptors are exercised the way a user's {@code module-info.java} would.
 */
class ModulePathTest {
  /** The application: trains a tiny model, saves it, loads it and predicts, printing facts. */
  private static final String MAIN =
      """
      package app;

      import dev.marrow.Layers;
      import dev.marrow.Losses;
      import dev.marrow.Model;
      import dev.marrow.Optimizers;
      import dev.marrow.engine.data.Dataset;
      import dev.marrow.engine.tensor.Tensor;
      import dev.marrow.engine.train.FitOptions;
      import dev.marrow.engine.train.History;
      import dev.marrow.models.zoo.ModelZoo;
      import java.nio.file.Path;
      import java.util.Locale;
      import java.util.Random;

      public final class Main {
        public static void main(String[] args) throws Exception {
          Module engine = Model.class.getModule();
          System.out.println("app named=" + Main.class.getModule().isNamed());
          System.out.println("engine module=" + engine.getName());
          System.out.println("cpu backend visible="
              + engine.isExported("dev.marrow.engine.backend.cpu", Main.class.getModule()));
          System.out.println("zoo has nielsen=" + ModelZoo.find("nielsen").isPresent());

          // Two features, label = which one is larger: learnable in a few epochs.
          int n = 256;
          Random random = new Random(7);
          float[] x = new float[n * 2];
          int[] y = new int[n];
          for (int i = 0; i < n; i++) {
            x[2 * i] = random.nextFloat();
            x[2 * i + 1] = random.nextFloat();
            y[i] = x[2 * i] > x[2 * i + 1] ? 1 : 0;
          }
          Dataset data = new Dataset(Tensor.of(x, n, 2), y, 2);
          Path dir = Path.of(args[0]);
          float[] trained;
          try (Model model = Model.sequential(2)
              .add(Layers.dense(16, "relu"))
              .add(Layers.dense(2))
              .compile(Optimizers.adam(1e-2), Losses.sparseCategoricalCrossentropy(true))) {
            History history = model.fit(data, FitOptions.defaults().epochs(5).batchSize(32));
            double first = history.epochs().getFirst().loss();
            double last = history.last().loss();
            System.out.println("loss decreased=" + (last < first));
            System.out.println(String.format(Locale.ROOT, "final loss=%.6f", last));
            model.save(dir);
            trained = model.predict(Tensor.of(x, n, 2)).toArray();
          }
          try (Model loaded = Model.load(dir)
              .compile(Optimizers.sgd(0.1), Losses.sparseCategoricalCrossentropy(true))) {
            float[] reloaded = loaded.predict(Tensor.of(x, n, 2)).toArray();
            float diff = 0;
            for (int i = 0; i < trained.length; i++) {
              diff = Math.max(diff, Math.abs(trained[i] - reloaded[i]));
            }
            System.out.println("reloaded predictions match=" + (diff < 1e-6f));
          }
        }
      }
      """;

  /** Imports two packages Marrow keeps to itself: must not compile on the module path. */
  private static final String INTERNAL =
      """
      package app;

      import dev.marrow.bindings.cudnn.cudnn_h;
      import dev.marrow.engine.backend.cpu.CpuBackend;

      final class Internal {
        Object backend = new CpuBackend();
        Object cudnn = cudnn_h.class;
      }
      """;

  /** The app's module path: Marrow's modules and what they require, from this test's class path. */
  private static List<Path> modulePath;

  @TempDir Path tmp;

  @BeforeAll
  static void findModules() {
    Map<String, Path> byName = new LinkedHashMap<>();
    Map<String, ModuleDescriptor> descriptors = new LinkedHashMap<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      if (!Files.exists(path)) {
        continue;
      }
      try {
        for (ModuleReference ref : ModuleFinder.of(path).findAll()) {
          descriptors.putIfAbsent(ref.descriptor().name(), ref.descriptor());
          byName.putIfAbsent(ref.descriptor().name(), path);
        }
      } catch (FindException e) {
        // Not a usable module (e.g. a jar whose file name gives no valid automatic name): the
        // application does not need it, or the walk below would miss it and the run would fail.
      }
    }
    // Walk the requires from dev.marrow.models, as the module system will; the JDK's own modules
    // are not on the class path and need no entry.
    List<Path> found = new ArrayList<>();
    Deque<String> todo = new ArrayDeque<>(List.of("dev.marrow.models"));
    Set<String> seen = new HashSet<>();
    while (!todo.isEmpty()) {
      String name = todo.pop();
      if (!seen.add(name) || !byName.containsKey(name)) {
        continue;
      }
      found.add(byName.get(name));
      for (ModuleDescriptor.Requires r : descriptors.get(name).requires()) {
        if (!r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC)) {
          todo.push(r.name());
        }
      }
    }
    for (String m :
        List.of(
            "dev.marrow.bindings",
            "dev.marrow.engine",
            "dev.marrow.models",
            "jcuda",
            "org.apache.commons.compress")) {
      // Jars installed in ~/.m2 before the descriptors existed show up as automatic modules
      // (marrow.engine, ...): build from the root so the reactor hands over this build's classes.
      assertTrue(
          seen.contains(m) && byName.containsKey(m),
          m
              + " is not on the test class path (build from the root: mvn verify); found "
              + byName.keySet());
    }
    modulePath = found;
  }

  @Test
  void runsOnTheClassPath() throws Exception {
    Path src = write(tmp.resolve("src"), false);
    Path classes = tmp.resolve("classes");
    compile(
        src,
        classes,
        List.of("--class-path", joined(modulePath), "--add-modules", "jdk.incubator.vector"),
        true);

    List<String> classPath = new ArrayList<>(List.of(classes.toString()));
    modulePath.forEach(p -> classPath.add(p.toString()));
    String out =
        run(
            List.of(
                "--add-modules",
                "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                String.join(File.pathSeparator, classPath),
                "app.Main",
                modelDir()));

    assertTrue(out.contains("app named=false"), out);
    assertTrue(out.contains("engine module=null"), out); // the unnamed module
    assertTrue(out.contains("cpu backend visible=true"), out); // the class path has no walls
    assertCommon(out);
  }

  @Test
  void runsOnTheModulePath() throws Exception {
    Path src = write(tmp.resolve("src"), true);
    Path classes = tmp.resolve("mods/app");
    // No --add-modules: dev.marrow.engine requires jdk.incubator.vector itself.
    compile(src, classes, List.of("--module-path", joined(modulePath)), true);

    List<Path> path = new ArrayList<>(modulePath);
    path.add(classes);
    String out =
        run(
            List.of(
                "--enable-native-access=dev.marrow.bindings,dev.marrow.engine",
                "--module-path",
                joined(path),
                "-m",
                "app/app.Main",
                modelDir()));

    assertTrue(out.contains("app named=true"), out);
    assertTrue(out.contains("engine module=dev.marrow.engine"), out);
    assertTrue(out.contains("cpu backend visible=false"), out);
    assertCommon(out);
  }

  @Test
  void internalPackagesAreNotVisibleOnTheModulePath() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src.resolve("app"));
    Files.writeString(
        src.resolve("module-info.java"),
        "module app { requires dev.marrow.engine; requires dev.marrow.bindings; }\n");
    Files.writeString(src.resolve("app/Internal.java"), INTERNAL);

    String errors =
        compile(src, tmp.resolve("classes"), List.of("--module-path", joined(modulePath)), false);

    // javac's words: "package ... is not visible (package ... is declared in module ..., which
    // does not export it[ to module app])".
    assertTrue(errors.contains("package dev.marrow.engine.backend.cpu is not visible"), errors);
    assertTrue(errors.contains("package dev.marrow.bindings.cudnn is not visible"), errors);
  }

  /** Lines both runs print the same way. */
  private static void assertCommon(String out) {
    assertTrue(out.contains("zoo has nielsen=true"), out);
    assertTrue(out.contains("loss decreased=true"), out);
    assertTrue(out.contains("reloaded predictions match=true"), out);
    Matcher loss = Pattern.compile("final loss=([0-9.]+)").matcher(out);
    assertTrue(loss.find(), out);
    double value = Double.parseDouble(loss.group(1));
    assertTrue(value > 0 && value < 0.69, "loss after 5 epochs: " + value); // ln 2 at chance
  }

  private String modelDir() {
    return tmp.resolve("model").toString();
  }

  private static Path write(Path src, boolean withDescriptor) throws IOException {
    Files.createDirectories(src.resolve("app"));
    if (withDescriptor) {
      Files.writeString(
          src.resolve("module-info.java"), "module app { requires dev.marrow.models; }\n");
    }
    Files.writeString(src.resolve("app/Main.java"), MAIN);
    return src;
  }

  /** Compiles every .java under {@code src}; returns javac's messages. */
  private static String compile(Path src, Path out, List<String> options, boolean mustSucceed)
      throws IOException {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "this test needs a JDK, not a JRE");
    List<String> args = new ArrayList<>(options);
    args.addAll(
        List.of(
            "--release",
            String.valueOf(Runtime.version().feature()),
            "-d",
            out.toString(),
            "-Xlint:-incubating"));
    List<Path> sources;
    try (Stream<Path> files = Files.walk(src)) {
      sources = files.filter(f -> f.toString().endsWith(".java")).toList();
    }
    StringWriter messages = new StringWriter();
    boolean ok;
    try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, null)) {
      ok =
          javac
              .getTask(messages, fm, null, args, null, fm.getJavaFileObjectsFromPaths(sources))
              .call();
    }
    assertEquals(mustSucceed, ok, "javac " + args + ":\n" + messages);
    return messages.toString();
  }

  /** Runs {@code java} (the one running this test) and returns stdout; stderr must be quiet. */
  private static String run(List<String> args) throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    List<String> command = new ArrayList<>(List.of(java, "-Xmx512m"));
    command.addAll(args);
    // stderr to a file, so neither pipe can fill up while the other is read.
    Path errFile = Files.createTempFile("app", ".err");
    Process p = new ProcessBuilder(command).redirectError(errFile.toFile()).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + command);
    String err = Files.readString(errFile);
    Files.delete(errFile);
    String shown = String.join(" ", command) + "\nstdout:\n" + out + "\nstderr:\n" + err;
    assertEquals(0, p.exitValue(), shown);
    // The engine logs its backend choice and fit's epoch lines at INFO through System.Logger;
    // on both paths they must reach the platform's logging (a header naming the engine's class,
    // then "INFO: ...").
    assertTrue(err.contains("INFO: Marrow backend cpu: "), "no backend log line:\n" + shown);
    // The JDK names the incubator module it loads; anything else (a native-access warning
    // because a module name above is wrong, a stack trace) is a failure.
    String unexpected =
        err.lines()
            .filter(l -> !l.contains("Using incubator modules: jdk.incubator.vector"))
            .filter(l -> !l.startsWith("INFO: ") && !l.contains(" dev.marrow.engine."))
            .filter(l -> !l.isBlank())
            .reduce("", (a, b) -> a + b + "\n");
    assertTrue(unexpected.isEmpty(), "unexpected stderr:\n" + shown);
    return out;
  }

  private static String joined(List<Path> paths) {
    return String.join(File.pathSeparator, paths.stream().map(Path::toString).toList());
  }
}
