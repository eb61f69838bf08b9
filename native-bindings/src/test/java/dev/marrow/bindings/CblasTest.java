package dev.marrow.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The jextract-generated CBLAS binding, end to end, where OpenBLAS is installed. */
class CblasTest {

  @Test
  void sgemmThroughTheGeneratedBindingMatchesTheDefinition() {
    StringBuilder why = new StringBuilder();
    Optional<Cblas> blas = Cblas.load(why::append);
    assumeTrue(blas.isPresent(), "OpenBLAS not installed here: " + why);
    int m = 3, n = 5, k = 4;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment a = arena.allocate(4L * m * k), b = arena.allocate(4L * k * n);
      MemorySegment c = arena.allocate(4L * m * n);
      for (int i = 0; i < m * k; i++) {
        a.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f - 1);
      }
      for (int i = 0; i < k * n; i++) {
        b.setAtIndex(ValueLayout.JAVA_FLOAT, i, 2 - i * 0.25f);
      }
      // op(B) transposed: B is stored n × k.
      blas.get().sgemm(false, true, m, n, k, 2f, a, k, b, k, 0f, c, n);
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double expected = 0;
          for (int p = 0; p < k; p++) {
            expected +=
                a.getAtIndex(ValueLayout.JAVA_FLOAT, i * k + p)
                    * b.getAtIndex(ValueLayout.JAVA_FLOAT, j * k + p);
          }
          assertEquals(
              2 * expected,
              c.getAtIndex(ValueLayout.JAVA_FLOAT, i * n + j),
              1e-4,
              "C[" + i + "][" + j + "]");
        }
      }
      assertEquals(true, blas.get().coreName().length() > 0);
    }
  }
}
