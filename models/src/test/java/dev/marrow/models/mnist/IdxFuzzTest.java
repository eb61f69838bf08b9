package dev.marrow.models.mnist;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.IOException;

/**
 * Fuzzes the IDX reader (the same code path as a file, with and without a known size): any bytes
 * must parse or fail with {@link IdxFormatException}. Replays the seed corpus in the regular run;
 * {@code JAZZER_FUZZ=1 ./marrow test -pl models -Dtest=IdxFuzzTest} fuzzes.
 */
class IdxFuzzTest {

  @FuzzTest(maxDuration = "30s")
  void idx(byte[] data) throws IOException {
    for (long size : new long[] {data.length, -1}) {
      for (int rank : new int[] {1, 3}) {
        try {
          IdxReader.read(new ByteArrayInputStream(data), "fuzz", rank, size);
        } catch (IdxFormatException expected) {
          // the reader's own refusal
        }
      }
    }
  }
}
