package dev.marrow.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's start-up cache (JDK 25's {@code -XX:AOTCacheOutput}/{@code -XX:AOTCache}, recorded
 * by {@link StartupTraining}): the recording workload runs and makes a cache, and a training run
 * that is forced to use it ({@code -XX:AOTMode=on} fails when the cache cannot be mapped) writes
 * exactly the weights of a run without it. In child JVMs; skipped on JDKs before 25.
 */
class StartupCacheTest {
  @TempDir Path tmp;

  @Test
  void aRunFromTheCacheWritesTheSameWeightsAsOneWithout() throws Exception {
    assumeTrue(Runtime.version().feature() >= 25, "the one-step AOT cache is JDK 25's");
    String classpath = jarsOnly(System.getProperty("java.class.path"), tmp.resolve("jars"));
    Path cache = tmp.resolve("marrow.aot");

    Child record =
        java(classpath, List.of("-XX:AOTCacheOutput=" + cache), List.of("StartupTraining"));
    assertEquals(0, record.code(), record.output());
    assertTrue(Files.size(cache) > 1 << 20, "a cache of " + Files.size(cache) + " bytes");

    Path data = tmp.resolve("data");
    StartupTraining.writeIdx(data, "train", 256);
    StartupTraining.writeIdx(data, "t10k", 64);
    Path cold = tmp.resolve("cold"), cached = tmp.resolve("cached");
    Child without = java(classpath, List.of(), train(data, cold));
    assertEquals(0, without.code(), without.output());
    Child with =
        java(classpath, List.of("-XX:AOTCache=" + cache, "-XX:AOTMode=on"), train(data, cached));
    assertEquals(0, with.code(), with.output());

    assertArrayEquals(
        Files.readAllBytes(cold.resolve("model.safetensors")),
        Files.readAllBytes(cached.resolve("model.safetensors")),
        "the same weights with and without the cache");
    assertEquals(losses(cold), losses(cached));
  }

  private record Child(int code, String output) {}

  /** history.csv without its timings: epoch, loss, accuracy, val_loss, val_accuracy. */
  private static List<String> losses(Path run) throws IOException {
    return Files.readAllLines(run.resolve("history.csv")).stream()
        .map(line -> String.join(",", List.of(line.split(",")).subList(0, 5)))
        .toList();
  }

  /** {@code marrow train} of the cnn for one epoch on the IDX files in {@code data}. */
  private static List<String> train(Path data, Path out) {
    return List.of(
        "Main",
        "train",
        "--model",
        "cnn",
        "--dataset",
        "idx:" + data,
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--threads",
        "2",
        "--no-plots",
        "--no-progress",
        "--out",
        out.toString());
  }

  /** Runs {@code dev.marrow.cli.MAIN ARGS…} in a child JVM with the launcher's options. */
  private static Child java(String classpath, List<String> options, List<String> mainAndArgs)
      throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
    command.addAll(options);
    command.addAll(List.of("-cp", classpath, "dev.marrow.cli." + mainAndArgs.getFirst()));
    command.addAll(mainAndArgs.subList(1, mainAndArgs.size()));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(3, TimeUnit.MINUTES), "child finished: " + command);
    return new Child(p.exitValue(), String.join(" ", command) + "\n" + output);
  }

  /**
   * The class path with every folder replaced by a jar of it: the JDK records a cache only for a
   * class path of jars (and Maven's test class path has the module's own classes as a folder).
   */
  private static String jarsOnly(String classpath, Path dir) throws IOException {
    Files.createDirectories(dir);
    List<String> jars = new ArrayList<>();
    for (String entry : classpath.split(File.pathSeparator)) {
      Path path = Path.of(entry);
      if (!Files.isDirectory(path)) {
        jars.add(entry);
      } else if (!path.endsWith("test-classes")) {
        Path jar = dir.resolve(jars.size() + ".jar");
        try (OutputStream file = Files.newOutputStream(jar);
            JarOutputStream out = new JarOutputStream(file);
            Stream<Path> files = Files.walk(path)) {
          for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
            out.putNextEntry(new JarEntry(path.relativize(f).toString().replace('\\', '/')));
            Files.copy(f, out);
            out.closeEntry();
          }
        }
        jars.add(jar.toString());
      }
    }
    return String.join(File.pathSeparator, jars);
  }
}
