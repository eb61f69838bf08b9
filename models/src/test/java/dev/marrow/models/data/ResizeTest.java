package dev.marrow.models.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

class ResizeTest {
  private static float[] row(float[] src, int out) {
    float[] dst = new float[out];
    Resize.row(src, 0, Resize.taps(src.length, out), dst, 0);
    return dst;
  }

  @Test
  void shrinkingAveragesTheCoveredArea() {
    assertArrayEquals(new float[] {0.5f, 2.5f}, row(new float[] {0, 1, 2, 3}, 2), 1e-6f);
    // 3 → 2: each output covers 1.5 source pixels, the middle one shared half and half.
    assertArrayEquals(
        new float[] {(3 + 0.5f * 6) / 1.5f, (0.5f * 6 + 9) / 1.5f},
        row(new float[] {3, 6, 9}, 2),
        1e-6f);
  }

  @Test
  void theSameSizeIsAnExactCopy() {
    float[] src = {0.1f, 0.7f, 0.3f, 0.9f, 0.0f};
    assertArrayEquals(src, row(src, 5));
  }

  @Test
  void growingIsBilinearWithCentresAlignedAndEdgesClamped() {
    assertArrayEquals(new float[] {0, 0.25f, 0.75f, 1}, row(new float[] {0, 1}, 4), 1e-6f);
    assertArrayEquals(new float[] {0.4f, 0.4f, 0.4f}, row(new float[] {0.4f}, 3), 1e-6f);
  }

  @Test
  void columnsResampleEachPlaneDownItsRows() {
    // Two planes (C = 2) of 4 rows × 1 column, shrunk to 2 rows.
    float[] planes = {0, 1, 2, 3, 10, 10, 20, 40};
    assertArrayEquals(new float[] {0.5f, 2.5f, 10, 30}, Resize.columns(planes, 2, 4, 1, 2), 1e-6f);
  }
}
