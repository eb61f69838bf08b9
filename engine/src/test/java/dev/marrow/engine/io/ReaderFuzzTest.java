package dev.marrow.engine.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzzes the readers that take files from users: any byte string must either parse or fail with the
 * readers' own exceptions — never an OutOfMemoryError, a stack overflow, an index exception or an
 * endless loop. In the regular test run these replay the committed seed corpus
 * (src/test/resources/dev/marrow/engine/io/ReaderFuzzTestInputs/); with JAZZER_FUZZ=1 they fuzz:
 *
 * <pre>JAZZER_FUZZ=1 ./marrow test -pl engine -Dtest=ReaderFuzzTest#safetensors</pre>
 */
class ReaderFuzzTest {

  @FuzzTest(maxDuration = "30s")
  void safetensors(byte[] data) throws IOException {
    Path file = Files.createTempFile("fuzz", ".safetensors");
    try {
      Files.write(file, data);
      SafeTensors.read(file);
    } catch (SafeTensors.FormatException expected) {
      // a clear refusal is the right answer to a malformed file
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @FuzzTest(maxDuration = "30s")
  void modelJson(byte[] data) {
    String text = new String(data, StandardCharsets.UTF_8);
    try {
      ModelFormat.fromConfig(Json.parse(text), "fuzz.json").build(0);
    } catch (IllegalArgumentException | IllegalStateException expected) {
      // Json.JsonException and every validation failure are IllegalArgumentExceptions
    }
  }
}
