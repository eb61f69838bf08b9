package dev.marrow.engine.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * BackendProfiler: counts every call by operation (or shape), passes results and errors through.
 */
class BackendProfilerTest {
  private static final ConvGeometry CONV =
      new ConvGeometry(2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 6, 6);

  @Test
  void countsAndTimesEachOperationAndComputesTheSameResult() {
    BackendProfiler profiler = BackendProfiler.of(new ReferenceBackend());
    Backend timed = profiler.backend();
    Tensor x = ramp(CONV.n() * CONV.inputPlaneSize());
    Tensor w = ramp(CONV.f() * CONV.patchSize());
    Tensor y = Tensor.zeros(CONV.n() * CONV.outputImageSize());
    Tensor expected = Tensor.zeros(y.size());
    for (int i = 0; i < 3; i++) {
      timed.conv2dForward(CONV, x, w, null, y);
    }
    timed.scale(y, 1f);
    new ReferenceBackend().conv2dForward(CONV, x, w, null, expected);
    assertArrayEquals(expected.array(), y.array(), "the wrapped backend computed something else");

    Map<String, BackendProfiler.Entry> byName =
        profiler.entries().stream()
            .collect(Collectors.toMap(BackendProfiler.Entry::operation, e -> e));
    assertEquals(3, byName.get("conv2dForward").calls());
    assertEquals(1, byName.get("scale").calls());
    assertTrue(byName.get("conv2dForward").totalMillis() > 0);
    List<BackendProfiler.Entry> entries = profiler.entries();
    for (int i = 1; i < entries.size(); i++) {
      assertTrue(entries.get(i - 1).totalMillis() >= entries.get(i).totalMillis(), "sorted");
    }
    String table = profiler.table();
    assertTrue(table.contains("| conv2dForward | 3 |"), table);
    assertTrue(table.contains("| all |"), table);

    profiler.reset();
    assertTrue(profiler.entries().isEmpty());
  }

  @Test
  void byShapeKeepsLayersApartAndErrorsPassThroughUnwrapped() {
    BackendProfiler profiler = BackendProfiler.byShape(new ReferenceBackend());
    Backend timed = profiler.backend();
    timed.conv2dForward(
        CONV,
        Tensor.zeros(CONV.n() * CONV.inputPlaneSize()),
        Tensor.zeros(CONV.f() * CONV.patchSize()),
        null,
        Tensor.zeros(CONV.n() * CONV.outputImageSize()));
    timed.gemm(
        false,
        false,
        2,
        3,
        4,
        1f,
        Tensor.zeros(8),
        0,
        4,
        Tensor.zeros(12),
        0,
        3,
        0f,
        Tensor.zeros(6),
        0,
        3);
    List<String> ops = profiler.entries().stream().map(BackendProfiler.Entry::operation).toList();
    assertTrue(ops.contains("conv2dForward 3→4 6x6 k3x3 s1"), ops.toString());
    assertTrue(ops.contains("gemm 2x3x4"), ops.toString());

    Tensor small = Tensor.zeros(2), large = Tensor.zeros(3);
    assertThrows(IllegalArgumentException.class, () -> timed.copy(small, large));
    assertEquals(1, profiler.entries().stream().filter(e -> e.operation().equals("copy")).count());
  }

  private static Tensor ramp(int n) {
    Tensor t = Tensor.zeros(n);
    for (int i = 0; i < n; i++) {
      t.set(i, (float) Math.sin(i));
    }
    return t;
  }
}
