package dev.marrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} gets, on the engine's first use,
 * an error that gives the exact flags for java, Maven, Gradle and IDEs, not a bare
 * NoClassDefFoundError from a kernel.
 */
class JvmFlagsTest {
  @Test
  void missingVectorApiNamesTheFlagsForEveryLauncher() throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    Process p =
        new ProcessBuilder(
                java, "-cp", System.getProperty("java.class.path"), JvmFlagsProbe.class.getName())
            .redirectErrorStream(true)
            .start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe JVM did not finish");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
    for (String entry : List.of("Model", "Backends", "CpuBackend")) {
      String line = out.lines().filter(l -> l.startsWith(entry + ": ")).findFirst().orElse("");
      assertTrue(
          line.contains(MissingJvmFlagException.class.getName())
              && line.contains("jdk.incubator.vector"),
          entry + " gave: " + line + "\n" + out);
    }
    assertTrue(
        out.contains("java " + JvmFlags.CLASS_PATH_FLAGS)
            && out.contains("<argLine>" + JvmFlags.CLASS_PATH_FLAGS + "</argLine>")
            && out.contains("applicationDefaultJvmArgs")
            && out.contains("VM options"),
        out);
    assertFalse(out.contains("NoClassDefFoundError"), out);
  }

  @Test
  void thisJvmHasTheFlags() {
    JvmFlags.requireVectorApi(); // surefire passes them: no exception
  }
}
