package dev.marrow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Internal errors exit 1 (stack trace only with --verbose); a full disk is a user error. */
class ExitCodeTest {
  @TempDir Path tmp;

  @Command(name = "explode")
  static final class Explode implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new IllegalStateException("invariant broken");
    }
  }

  private static CliTest.Result runWithExplode(String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    CommandLine cli = new CommandLine(new Main()).addSubcommand(new Explode());
    int code = Main.execute(cli, args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new CliTest.Result(code, out.toString(), err.toString());
  }

  @Test
  void internalErrorsExitOneWithTheStackTraceOnlyWhenVerbose() {
    CliTest.Result quiet = runWithExplode("explode");
    assertEquals(1, quiet.code());
    assertTrue(
        quiet
                .err()
                .contains(
                    "marrow: internal error: java.lang.IllegalStateException:"
                        + " invariant broken")
            && quiet.err().contains("run with --verbose"),
        quiet.err());
    assertFalse(quiet.err().contains("\tat "), quiet.err());

    CliTest.Result verbose = runWithExplode("--verbose", "explode");
    assertEquals(1, verbose.code());
    assertTrue(
        verbose.err().contains("\tat dev.marrow.cli.ExitCodeTest$Explode.call"), verbose.err());
  }

  /**
   * A file-size limit (ulimit -f, which the JVM turns into "File too large" errors) stands in for a
   * full disk: the checkpoint of the first epoch cannot be written.
   */
  @Test
  void aFullDiskExitsTwoAndLeavesNoPartialFiles() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/bin/bash")));
    Path run = tmp.resolve("run");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                "/bin/bash",
                "-c",
                "ulimit -f 300 && exec \"$0\" \"$@\"",
                java,
                "--add-modules",
                "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "train",
                "--model",
                "mlp",
                "--epochs",
                "1",
                "--no-plots",
                "--no-progress",
                "--device",
                "cpu",
                "--out",
                run.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child finished");
    assertEquals(2, p.exitValue(), output);
    assertTrue(
        output.contains("marrow: cannot write checkpoint")
            && output.contains("File too large")
            && output.contains("is the disk full"),
        output);
    try (Stream<Path> files = Files.list(run)) {
      List<String> names = files.map(f -> f.getFileName().toString()).sorted().toList();
      assertTrue(names.stream().noneMatch(n -> n.endsWith(".tmp")), "temp files left: " + names);
      assertFalse(names.contains("checkpoint.safetensors"), "a partial checkpoint: " + names);
    }
  }
}
