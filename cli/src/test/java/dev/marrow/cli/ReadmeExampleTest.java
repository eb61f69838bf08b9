package dev.marrow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Compiles and runs the README's embedding example, so that it cannot rot. */
class ReadmeExampleTest {
  @TempDir Path tmp;

  @Test
  void embeddingExampleCompilesAndTrains() throws Exception {
    String out = runExample("embedding-example", "EmbeddingExample");
    Matcher acc = Pattern.compile("test accuracy (0\\.\\d+)").matcher(out);
    assertTrue(acc.find(), "the example prints its test accuracy:\n" + out);
    assertTrue(Double.parseDouble(acc.group(1)) > 0.9, out);
    Matcher digit =
        Pattern.compile(
                "predicted: \\[(\\w+) \\((\\d\\.\\d+)\\), \\w+ \\(\\d\\.\\d+\\),"
                    + " \\w+ \\(\\d\\.\\d+\\)\\] \\(label (\\d)\\)")
            .matcher(out);
    assertTrue(digit.find(), out);
    List<String> names =
        List.of("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine");
    assertEquals(
        names.get(Integer.parseInt(digit.group(3))),
        digit.group(1),
        "the reloaded model reads the picture, and names the class");
    for (String expected : List.of("Total params", "epoch 2:")) {
      assertTrue(out.contains(expected), expected + " in:\n" + out);
    }
  }

  @Test
  void tableExampleTrainsARegressionModel() throws Exception {
    Path csv = CliDataTest.houses(tmp, true);
    String out = runExample("table-example", "TableExample", csv.toString());
    Matcher rmse = Pattern.compile("test rmse (\\d+\\.\\d+)").matcher(out);
    assertTrue(rmse.find(), "the example prints its test RMSE:\n" + out);
    assertTrue(Double.parseDouble(rmse.group(1)) < 0.6, out);
    assertTrue(
        out.contains("normalization1 (Normalization)"),
        "the summary lists the standardisation:\n" + out);
  }

  /** Compiles the README's java block after {@code <!-- marker -->} and runs its main. */
  private String runExample(String marker, String className, String... args) throws Exception {
    Path readme = Path.of(System.getProperty("marrow.repo.root", ".."), "README.md");
    String text = Files.readString(readme);
    Matcher m =
        Pattern.compile("<!-- " + marker + " -->\\s*```java\\n(.*?)```", Pattern.DOTALL)
            .matcher(text);
    assertTrue(m.find(), "README.md has a java block after <!-- " + marker + " -->");
    Path dir = Files.createDirectories(tmp.resolve(marker));
    Path src = dir.resolve(className + ".java");
    Files.writeString(src, m.group(1));

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "tests run on a JDK");
    ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
    int code =
        javac.run(
            null,
            null,
            diagnostics,
            "--add-modules",
            "jdk.incubator.vector",
            "-classpath",
            System.getProperty("java.class.path"),
            "-d",
            dir.toString(),
            src.toString());
    assertEquals(0, code, "README example does not compile:\n" + diagnostics);

    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try (URLClassLoader loader =
        new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      System.setOut(new PrintStream(captured, true));
      loader.loadClass(className).getMethod("main", String[].class).invoke(null, (Object) args);
    } finally {
      System.setOut(original);
    }
    String out = captured.toString();
    original.print(out);
    return out;
  }
}
