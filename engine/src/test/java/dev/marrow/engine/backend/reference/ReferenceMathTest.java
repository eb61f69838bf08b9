package dev.marrow.engine.backend.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** ReferenceMath against values from CPython's math.erf and math.erfc (C99 libm). */
class ReferenceMathTest {
  // x, erf(x), erfc(x)
  private static final double[][] ERF = {
    {0.0, 0.0, 1.0},
    {1e-10, 1.1283791670955126e-10, 0.999999999887162},
    {0.1, 0.1124629160182849, 0.8875370839817152},
    {0.5, 0.5204998778130465, 0.4795001221869535},
    {1.0, 0.8427007929497149, 0.15729920705028513},
    {2.0, 0.9953222650189527, 0.004677734981047265},
    {2.999, 0.9999777698314002, 2.2230168599834058e-05},
    {3.0, 0.9999779095030014, 2.2090496998585438e-05},
    {3.001, 0.9999780483390822, 2.19516609177373e-05},
    {4.5, 0.9999999998033839, 1.9661604415428873e-10},
    {6.0, 1.0, 2.1519736712498916e-17},
    {10.0, 1.0, 2.088487583762545e-45},
    {-0.5, -0.5204998778130465, 1.5204998778130465},
    {-3.5, -0.9999992569016276, 1.9999992569016276},
  };

  // x, Φ(x)
  private static final double[][] CDF = {
    {-20.0, 2.7536241186063314e-89},
    {-10.0, 7.619853024160593e-24},
    {-5.0, 2.866515718791946e-07},
    {-1.0, 0.15865525393145707},
    {0.0, 0.5},
    {1.5, 0.9331927987311419},
  };

  @Test
  void erfAndErfcMatchLibm() {
    for (double[] c : ERF) {
      assertEquals(c[1], ReferenceMath.erf(c[0]), 1e-15 * Math.abs(c[1]), "erf(" + c[0] + ")");
      // 1 − erf below 3 leaves erfc with ~11 good digits where it is small
      double rtol = c[0] > 1 && c[0] < 3 ? 3e-11 : 1e-14;
      assertEquals(c[2], ReferenceMath.erfc(c[0]), rtol * c[2], "erfc(" + c[0] + ")");
    }
  }

  @Test
  void normalCdfKeepsItsLowerTail() {
    for (double[] c : CDF) {
      // rounding x/√2 costs a relative 2⁻⁵²·x² (both here and in the expected values)
      double rtol = 1e-14 + 0x1p-52 * c[0] * c[0];
      assertEquals(c[1], ReferenceMath.normalCdf(c[0]), rtol * c[1], "Φ(" + c[0] + ")");
    }
    assertEquals(0.3989422804014327, ReferenceMath.normalPdf(0), 1e-16);
  }
}
