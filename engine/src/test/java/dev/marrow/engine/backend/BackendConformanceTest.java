package dev.marrow.engine.backend;

import static dev.marrow.engine.Assertions2.assertClose;
import static dev.marrow.engine.Assertions2.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one conformance suite: every backend kernel against {@link ReferenceBackend} on random
 * shapes, including sizes that are not multiples of the vector length (tails) and products large
 * enough to be split over threads.
 */
class BackendConformanceTest {
  private static final ReferenceBackend REF = new ReferenceBackend();
  private static final List<Backend> BACKENDS =
      TestBackends.withCuda(TestBackends.cpu(1), TestBackends.cpu(2), TestBackends.cpu(3));

  static Stream<Arguments> backends() {
    return BACKENDS.stream().map(b -> Arguments.of(b.name() + "x" + b.threads(), b));
  }

  @AfterAll
  static void close() {
    BACKENDS.forEach(Backend::close);
  }

  // m, n, k: tails below and above the 6-row, 32-column register tile, and sizes large enough to
  // go parallel.
  private static final int[][] GEMM_SHAPES = {
    {1, 1, 1},
    {1, 10, 128},
    {5, 7, 3},
    {6, 32, 16},
    {7, 33, 17},
    {13, 47, 29},
    {32, 128, 784},
    {64, 10, 128},
    {300, 20, 600}, // operands in place, several k slices
    {100, 70, 300},
    {129, 65, 64},
    {784, 128, 32}, // both operands packed, partial edge blocks
    {200, 300, 260},
    {50, 200, 700}, // packed, split by row blocks, two and three k slices
    {60, 330, 300}
  }; // packed, split by column blocks

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void gemmMatchesReferenceForAllTransposesAndTails(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(1);
    for (int[] s : GEMM_SHAPES) {
      for (int t = 0; t < 4; t++) {
        boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
        int m = s[0], n = s[1], k = s[2];
        // Leading dimensions wider than the matrices and non-zero offsets, as sub-matrices have.
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 5;
        int aOff = 7, bOff = 3, cOff = 2;
        Tensor a = random(r, aOff + (ta ? k : m) * lda);
        Tensor bm = random(r, bOff + (tb ? n : k) * ldb);
        Tensor c0 = random(r, cOff + m * ldc);
        for (float[] ab : new float[][] {{1f, 0f}, {0.5f, 1f}, {-2f, 0.25f}}) {
          Tensor expected = c0.copy(), actual = c0.copy();
          REF.gemm(ta, tb, m, n, k, ab[0], a, aOff, lda, bm, bOff, ldb, ab[1], expected, cOff, ldc);
          b.gemm(ta, tb, m, n, k, ab[0], a, aOff, lda, bm, bOff, ldb, ab[1], actual, cOff, ldc);
          assertClose(
              expected,
              actual,
              1e-4,
              1e-4 * Math.sqrt(k),
              String.format(
                  "gemm %s%s m=%d n=%d k=%d alpha=%s beta=%s",
                  ta ? "T" : "N", tb ? "T" : "N", m, n, k, ab[0], ab[1]));
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void gemmWithBetaZeroIgnoresNanInC(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(2);
    // operands in place; packed with edge tiles and two k slices (the first overwrites C)
    for (int[] s : new int[][] {{9, 37, 11}, {100, 70, 300}}) {
      int m = s[0], n = s[1], k = s[2];
      Tensor a = random(r, m, k), bm = random(r, k, n), c = Tensor.zeros(m, n);
      java.util.Arrays.fill(c.array(), Float.NaN);
      Tensor expected = Tensor.zeros(m, n);
      REF.gemm(false, false, m, n, k, 1f, a, 0, k, bm, 0, n, 0f, expected, 0, n);
      b.gemm(false, false, m, n, k, 1f, a, 0, k, bm, 0, n, 0f, c, 0, n);
      assertClose(expected, c, 1e-5, 1e-5 * Math.sqrt(k), "gemm beta=0 over NaN " + m + "x" + n);
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void gemmLeavesElementsOutsideCUntouched(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(3);
    Tensor a = random(r, 7, 5), bm = random(r, 5, 33);
    Tensor c = Tensor.zeros(7 * 40 + 10);
    java.util.Arrays.fill(c.array(), 42f);
    b.gemm(false, false, 7, 33, 5, 1f, a, 0, 5, bm, 0, 33, 0f, c, 0, 40);
    for (int i = 0; i < 7; i++) {
      for (int j = 33; j < 40; j++) {
        assertEquals(42f, c.get(i * 40 + j), "padding column " + j + " of row " + i);
      }
    }
  }

  private static final int[][] ROWS_COLS = {
    {1, 1}, {3, 10}, {32, 128}, {7, 33}, {512, 129}, {1000, 100}
  };

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void biasAndReductions(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(4);
    for (int[] rc : ROWS_COLS) {
      int rows = rc[0], cols = rc[1];
      String shape = " " + rows + "x" + cols;
      Tensor y = random(r, rows, cols), bias = random(r, cols);
      Tensor ye = y.copy();
      REF.biasAdd(ye, bias, rows, cols);
      b.biasAdd(y, bias, rows, cols);
      assertClose(ye, y, 1e-6, 1e-6, "biasAdd" + shape);

      Tensor db = random(r, cols), dbe = db.copy();
      REF.biasGrad(y, dbe, rows, cols, 0.5f);
      b.biasGrad(y, db, rows, cols, 0.5f);
      assertClose(dbe, db, 1e-5, 1e-5 * rows, "biasGrad" + shape);

      Tensor x = random(r, rows, cols), z = random(r, rows, cols), ze = z.copy();
      REF.axpy(-0.75f, x, ze);
      b.axpy(-0.75f, x, z);
      assertClose(ze, z, 1e-6, 1e-6, "axpy" + shape);
      REF.scale(ze, 3f);
      b.scale(z, 3f);
      assertClose(ze, z, 1e-6, 1e-6, "scale" + shape);
    }
  }

  // srcOffset, srcStride, dstOffset, dstStride, blocks, blockLength: one contiguous run over all
  // of dst, odd strides and offsets, lengths around the vector length (8 and 16 lanes), one long
  // block, many short ones and a few long ones (both split over threads), single floats.
  private static final int[][] BLOCK_COPIES = {
    {0, 5, 0, 5, 4, 5},
    {3, 7, 2, 9, 5, 3},
    {1, 40, 0, 17, 11, 17},
    {5, 33, 4, 15, 3, 15},
    {0, 16, 1, 19, 6, 16},
    {2, 31, 7, 33, 9, 31},
    {0, 8, 0, 9, 7, 8},
    {0, 3, 0, 2, 50, 1},
    {7, 0, 3, 0, 1, 100_003},
    {2, 31, 1, 29, 3000, 23},
    {0, 40_010, 13, 40_001, 3, 40_001},
    {4, 6, 0, 6, 0, 6},
    {4, 6, 0, 6, 5, 0}
  };

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void copyBlocksMatchesReference(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(12);
    for (int[] c : BLOCK_COPIES) {
      int blocks = c[4], len = c[5];
      int srcSize = c[0] + Math.max(0, blocks - 1) * c[1] + len + 3;
      int dstSize = c[2] + Math.max(0, blocks - 1) * c[3] + len;
      if (c[2] != 0 || c[3] != len) {
        dstSize += 5; // elements outside every block, which must stay as they were
      }
      for (boolean accumulate : new boolean[] {false, true}) {
        String what = "copyBlocks " + java.util.Arrays.toString(c) + " accumulate " + accumulate;
        Tensor src = random(r, srcSize), expected = random(r, dstSize), actual = expected.copy();
        REF.copyBlocks(src, c[0], c[1], expected, c[2], c[3], blocks, len, accumulate);
        b.copyBlocks(src, c[0], c[1], actual, c[2], c[3], blocks, len, accumulate);
        assertClose(expected, actual, 0, 0, what);
      }
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void copyBlocksWithinOneTensorAndOutOfBoundsCalls(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(13);
    // Concatenation in place: blocks of the first half copied into the second half.
    for (boolean accumulate : new boolean[] {false, true}) {
      Tensor expected = random(r, 2 * 7 * 37), actual = expected.copy();
      REF.copyBlocks(expected, 1, 37, expected, 7 * 37 + 3, 37, 7, 33, accumulate);
      b.copyBlocks(actual, 1, 37, actual, 7 * 37 + 3, 37, 7, 33, accumulate);
      assertClose(expected, actual, 0, 0, "copyBlocks within one tensor, accumulate " + accumulate);
    }
    Tensor src = random(r, 50), dst = random(r, 40), before = dst.copy();
    int[][] outside = {
      {0, 10, 0, 10, 5, 10}, // src ends at 50, dst at 50 > 40
      {45, 1, 0, 1, 1, 6}, // src ends at 51
      {-1, 1, 0, 1, 1, 4}, // negative offset
      {0, 1, 0, 1, -1, 4} // negative block count
    };
    for (int[] c : outside) {
      assertThrows(
          IllegalArgumentException.class,
          () -> b.copyBlocks(src, c[0], c[1], dst, c[2], c[3], c[4], c[5], false),
          java.util.Arrays.toString(c));
    }
    assertClose(before, dst, 0, 0, "dst after rejected copies");
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void multiplyMatchesReferenceIncludingAliasedOutputs(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(14);
    for (int n : new int[] {1, 7, 15, 17, 33, 100, 40_000, 100_003}) {
      Tensor x = random(r, n), y = random(r, n);
      for (boolean accumulate : new boolean[] {false, true}) {
        String what = " n=" + n + " accumulate " + accumulate;
        Tensor expected = random(r, n), actual = expected.copy();
        REF.multiply(x, y, expected, accumulate);
        b.multiply(x, y, actual, accumulate);
        // A GPU may fuse the accumulating product and sum into one fma: one rounding fewer.
        assertClose(expected, actual, 1e-6, 1e-7, "multiply" + what);
      }
      Tensor expected = x.copy(), actual = x.copy(), other = y.copy();
      REF.multiply(expected, y, expected, false);
      b.multiply(actual, y, actual, false);
      assertClose(expected, actual, 0, 0, "multiply into a, n=" + n);
      REF.multiply(x, y, y, false);
      b.multiply(x, other, other, false);
      assertClose(y, other, 0, 0, "multiply into b, n=" + n);
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void addAndAddReluMatchTheUnfusedPassesIncludingAliasedOutputs(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(15);
    for (boolean relu : new boolean[] {false, true}) {
      String op = relu ? "addRelu" : "add";
      for (int n : new int[] {1, 7, 17, 100, 40_000, 100_003}) {
        Tensor x = random(r, n), y = random(r, n);
        Tensor expected = x.copy(), actual = Tensor.zeros(n);
        REF.axpy(1f, y, expected); // what Add computed before: a copy of x, then + y
        if (relu) {
          REF.activationForward(Activation.RELU, expected, expected); // then the ReLU layer
        }
        TensorOp3 run = relu ? b::addRelu : b::add;
        run.apply(x, y, actual);
        assertClose(expected, actual, 0, 0, op + ", n=" + n);
        Tensor intoA = x.copy(), intoB = y.copy();
        run.apply(intoA, y, intoA);
        run.apply(x, intoB, intoB);
        assertClose(expected, intoA, 0, 0, op + " into a, n=" + n);
        assertClose(expected, intoB, 0, 0, op + " into b, n=" + n);
      }
    }
  }

  private interface TensorOp3 {
    void apply(Tensor a, Tensor b, Tensor y);
  }

  /** Every element-wise activation: all but softmax. */
  private static final List<Activation> ELEMENTWISE =
      java.util.Arrays.stream(Activation.values()).filter(a -> a != Activation.SOFTMAX).toList();

  /** Softplus' threshold from both sides, the kinks, and tails where gelu and silu underflow. */
  private static final float[] SPECIAL_INPUTS = {
    0f, 19.99f, 20.01f, 25f, -25f, 1e-4f, -1e-4f, -40f
  };

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void activationsForwardAndBackward(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(5);
    for (Activation kind : ELEMENTWISE) {
      for (int n : new int[] {1, 15, 17, 100, 40_000}) {
        Tensor x = random(r, n);
        for (int i = 0; i < n; i++) {
          x.array()[i] *= 8; // reach the saturated ends of sigmoid and tanh
        }
        if (n >= SPECIAL_INPUTS.length) {
          System.arraycopy(
              SPECIAL_INPUTS, 0, x.array(), n - SPECIAL_INPUTS.length, SPECIAL_INPUTS.length);
        }
        Tensor ye = Tensor.zeros(n), y = Tensor.zeros(n);
        REF.activationForward(kind, x, ye);
        b.activationForward(kind, x, y);
        assertClose(ye, y, 2e-6, 2e-6, kind + " forward n=" + n);
        Tensor inPlace = x.copy();
        b.activationForward(kind, inPlace, inPlace);
        assertClose(ye, inPlace, 2e-6, 2e-6, kind + " forward in place n=" + n);

        Tensor dy = random(r, n), dxe = Tensor.zeros(n), dx = Tensor.zeros(n);
        REF.activationBackward(kind, x, ye, dy, dxe);
        b.activationBackward(kind, x, ye, dy, dx);
        assertClose(dxe, dx, 1e-6, 1e-6, kind + " backward n=" + n);
        Tensor g = dy.copy();
        // Only what the kind reads is passed, as the layers do.
        boolean fromX = kind.backwardNeedsInput();
        b.activationBackward(kind, fromX ? x : null, fromX ? null : ye, g, g);
        assertClose(dxe, g, 1e-6, 1e-6, kind + " backward in place n=" + n);
      }
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void fusedBiasAndActivationMatchTheSeparatePasses(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(11);
    for (Activation kind : ELEMENTWISE) {
      for (int[] rc : ROWS_COLS) {
        int rows = rc[0], cols = rc[1];
        for (boolean withBias : new boolean[] {true, false}) {
          Tensor y = random(r, rows, cols), bias = withBias ? random(r, cols) : null;
          Tensor ye = y.copy();
          if (withBias) {
            REF.biasAdd(ye, bias, rows, cols);
          }
          REF.activationForward(kind, ye, ye);
          b.biasActivation(y, bias, kind, rows, cols);
          assertClose(ye, y, 2e-6, 2e-6, kind + " bias " + withBias + " " + rows + "x" + cols);
        }
      }
    }
    for (int[] s : CONV_SHAPES) {
      ConvGeometry g = conv(s);
      Tensor x = random(r, g.n() * g.inputPlaneSize()), w = random(r, g.f() * g.patchSize());
      Tensor bias = random(r, g.f());
      for (Activation kind : ELEMENTWISE) {
        for (Tensor bv : java.util.Arrays.asList(bias, null)) {
          Tensor ye = Tensor.zeros(g.n() * g.outputImageSize()), y = Tensor.zeros(ye.size());
          REF.conv2dForward(g, x, w, bv, ye);
          REF.activationForward(kind, ye, ye);
          b.conv2dForward(g, x, w, bv, kind, y);
          assertClose(
              ye,
              y,
              1e-4,
              1e-5 * Math.sqrt(g.patchSize()),
              "conv + " + kind + (bv == null ? " no bias " : " ") + g);
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void softmaxAndLosses(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(6);
    for (int[] rc : ROWS_COLS) {
      int rows = rc[0], cols = rc[1];
      String shape = " " + rows + "x" + cols;
      Tensor x = random(r, rows, cols);
      for (int i = 0; i < x.size(); i++) {
        x.array()[i] *= 20; // large logits: the kernels must subtract the row max
      }
      Tensor pe = Tensor.zeros(rows, cols), p = Tensor.zeros(rows, cols);
      REF.softmaxForward(x, pe, rows, cols);
      b.softmaxForward(x, p, rows, cols);
      assertClose(pe, p, 1e-5, 1e-7, "softmax" + shape);
      Tensor dy = random(r, rows, cols), dxe = Tensor.zeros(rows, cols);
      Tensor dx = Tensor.zeros(rows, cols);
      REF.softmaxBackward(pe, dy, dxe, rows, cols);
      b.softmaxBackward(pe, dy, dx, rows, cols);
      assertClose(dxe, dx, 1e-5, 1e-6, "softmax backward" + shape);

      Tensor labels = Tensor.zeros(rows), oneHot = Tensor.zeros(rows, cols);
      for (int i = 0; i < rows; i++) {
        int label = r.nextInt(cols);
        labels.set(i, label);
        oneHot.set(i * cols + label, 1);
      }
      Tensor ge = Tensor.zeros(rows, cols), g = Tensor.zeros(rows, cols);
      float le = REF.softmaxCrossEntropy(x, labels, ge, rows, cols, 1f / rows);
      float l = b.softmaxCrossEntropy(x, labels, g, rows, cols, 1f / rows);
      assertEquals(le, l, 1e-5 * Math.abs(le) + 1e-5, "softmaxCrossEntropy loss" + shape);
      assertClose(ge, g, 1e-5, 1e-7, "softmaxCrossEntropy grad" + shape);

      float lde = REF.softmaxCrossEntropyDense(x, oneHot, ge, rows, cols, 0.5f);
      float ld = b.softmaxCrossEntropyDense(x, oneHot, g, rows, cols, 0.5f);
      assertEquals(lde, ld, 1e-5 * Math.abs(lde) + 1e-5, "dense cross-entropy loss" + shape);
      assertEquals(le, ld, 1e-5 * Math.abs(le) + 1e-5, "dense and sparse agree" + shape);
      assertClose(ge, g, 1e-5, 1e-7, "dense cross-entropy grad" + shape);

      float lpe = REF.crossEntropyOfProbabilities(pe, oneHot, ge, rows, cols, 1f / rows);
      float lp = b.crossEntropyOfProbabilities(pe, oneHot, g, rows, cols, 1f / rows);
      assertEquals(lpe, lp, 1e-4 * Math.abs(lpe) + 1e-4, "cross-entropy of probabilities" + shape);
      assertClose(ge, g, 1e-5, 1e-6, "cross-entropy of probabilities grad" + shape);

      float se = REF.squaredError(pe, oneHot, ge, 1f / rows);
      float s = b.squaredError(pe, oneHot, g, 1f / rows);
      assertEquals(se, s, 1e-5 * se + 1e-6, "squared error" + shape);
      assertClose(ge, g, 1e-5, 1e-7, "squared error grad" + shape);

      assertEquals(
          REF.countCorrect(x, labels, rows, cols),
          b.countCorrect(x, labels, rows, cols),
          "countCorrect" + shape);
      assertEquals(
          REF.countCorrectDense(x, oneHot, rows, cols),
          b.countCorrectDense(x, oneHot, rows, cols),
          "countCorrectDense" + shape);
      int[] ae = new int[rows], a = new int[rows];
      REF.argmax(x, rows, cols, ae);
      b.argmax(x, rows, cols, a);
      assertArrayEquals(ae, a, "argmax" + shape);
    }
  }

  // n, c, h, w, f, k, stride, padTop/left (bottom/right follow from the output size), dilation,
  // and optionally outH, outW (smaller than the padding gives: the last rows/columns go unread).
  // Stride-1 shapes with padding run on the CPU's padded grid where it pays (PaddedGrid): 3 × 3
  // 'same', dilated, 5 × 5, and the cropped one.
  private static final int[][] CONV_SHAPES = {
    {1, 1, 5, 5, 1, 1, 1, 0, 1},
    {2, 1, 28, 28, 4, 5, 1, 0, 1},
    {3, 3, 9, 7, 5, 3, 1, 1, 1},
    {2, 4, 11, 10, 3, 3, 2, 1, 1},
    {2, 2, 12, 9, 6, 3, 1, 2, 2},
    {5, 16, 12, 12, 32, 5, 1, 0, 1},
    {2, 3, 8, 8, 2, 4, 2, 0, 1},
    {1, 2, 7, 7, 3, 2, 3, 1, 2},
    {2, 5, 14, 14, 8, 3, 1, 1, 1},
    {2, 3, 20, 20, 4, 3, 1, 2, 2},
    {1, 2, 16, 18, 3, 5, 1, 2, 1},
    {2, 2, 10, 12, 3, 3, 1, 1, 1, 6, 11},
    {
      5, 32, 8, 8, 64, 3, 1, 1, 1
    }, // packed filters of two k slices, reused across a thread's images
    // small outputs, several images per product (ConvKernels.imagesPerProduct): valid 3 × 3 to
    // 3 × 3, strided to 4 × 4 with the packed path, a 1 × 1 stride-2 projection in uneven groups
    {6, 8, 5, 5, 40, 3, 1, 0, 1},
    {7, 16, 8, 8, 64, 3, 2, 1, 1},
    {5, 8, 14, 14, 16, 1, 2, 0, 1},
    // output rows shorter than PatchTable.SHORT_ROW through the table: vgg's 3 × 3 'same' on 3 × 3
    // images in four groups of ten (rounded to the threads), and a dilated 'same' 6 × 6
    {40, 8, 3, 3, 12, 3, 1, 1, 1},
    {3, 4, 6, 6, 5, 3, 1, 2, 2},
    // stride 2 from each row's column phases (ConvKernels.im2colStrided): odd widths, valid,
    // and TensorFlow's 'same' with its extra row and column at the bottom and right only
    {2, 3, 9, 11, 4, 3, 2, 1, 1},
    {1, 2, 6, 7, 3, 3, 2, 0, 1},
    {2, 3, 8, 9, 4, 3, 2, 0, 1, 4, 5},
    {3, 4, 7, 7, 6, 1, 2, 0, 1},
    {2, 3, 10, 11, 4, 3, 3, 1, 1}, // stride 3: three phases of unequal length
    // strided on the padded grid's phases (PaddedGrid): resnet's 3 × 3 downsampling with 'same'
    // padding at the bottom and right only, odd sizes, a 1 × 1 projection, stride 3, stride 2
    // with dilation 2, and different strides along rows and columns (sh, pad, dil, outH, outW, sw)
    {2, 3, 28, 28, 8, 3, 2, 0, 1, 14, 14},
    {2, 4, 29, 27, 5, 3, 2, 1, 1},
    {3, 5, 26, 26, 6, 1, 2, 0, 1},
    {2, 3, 31, 30, 4, 3, 3, 1, 1},
    {2, 2, 24, 25, 3, 3, 2, 2, 2},
    {2, 3, 20, 22, 4, 3, 1, 1, 1, 20, 11, 2},
    {2, 3, 21, 12, 4, 3, 2, 1, 1, 11, 12, 1}
  };

  // {n, c, h, w, f, k, stride, pad, dilation[, outH, outW[, strideW]]}
  static ConvGeometry conv(int[] s) {
    int sw = s.length > 11 ? s[11] : s[6];
    int out = s.length > 9 ? s[9] : ConvGeometry.outputSize(s[2], s[5], s[6], s[7], s[7], s[8]);
    int outW = s.length > 9 ? s[10] : ConvGeometry.outputSize(s[3], s[5], sw, s[7], s[7], s[8]);
    return new ConvGeometry(
        s[0], s[1], s[2], s[3], s[4], s[5], s[5], s[6], sw, s[7], s[7], s[8], s[8], out, outW);
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void convolutionForwardAndBackward(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(9);
    for (int[] s : CONV_SHAPES) {
      ConvGeometry g = conv(s);
      String what = " " + g;
      Tensor x = random(r, g.n() * g.inputPlaneSize()), w = random(r, g.f() * g.patchSize());
      Tensor bias = random(r, g.f()), dy = random(r, g.n() * g.outputImageSize());
      Tensor ye = Tensor.zeros(dy.size()), y = Tensor.zeros(dy.size());
      REF.conv2dForward(g, x, w, bias, ye);
      b.conv2dForward(g, x, w, bias, y);
      double atol = 1e-5 * Math.sqrt(g.patchSize());
      assertClose(ye, y, 1e-4, atol, "conv forward" + what);
      Tensor dxe = Tensor.zeros(x.size()), dx = random(r, x.size());
      REF.conv2dBackwardData(g, w, dy, dxe);
      b.conv2dBackwardData(g, w, dy, dx);
      assertClose(dxe, dx, 1e-4, atol, "conv backward data" + what);
      // Again after the filters changed in place: the CPU packs wᵀ once per call, not across.
      b.scale(w, -1.5f);
      REF.conv2dBackwardData(g, w, dy, dxe);
      b.conv2dBackwardData(g, w, dy, dx);
      assertClose(dxe, dx, 1e-4, 1.5 * atol, "conv backward data, new filters" + what);
      b.scale(w, -1 / 1.5f);
      Tensor dwe = random(r, w.size()), dw = dwe.copy();
      REF.conv2dBackwardFilter(g, x, dy, dwe, 0.5f);
      b.conv2dBackwardFilter(g, x, dy, dw, 0.5f);
      assertClose(
          dwe, dw, 1e-4, 1e-5 * Math.sqrt(g.n() * g.outputPixels()), "conv backward filter" + what);
      Tensor dbe = random(r, g.f()), db = dbe.copy();
      REF.conv2dBackwardBias(g, dy, dbe, 1f);
      b.conv2dBackwardBias(g, dy, db, 1f);
      assertClose(dbe, db, 1e-4, 1e-4, "conv backward bias" + what);
      if (b instanceof CpuBackend cpu
          && g.strideH() == 1
          && g.strideW() == 1
          && g.dilationH() == 1) {
        Tensor yd = Tensor.zeros(dy.size());
        cpu.conv2dForwardDirect(g, x, w, bias, yd);
        assertClose(ye, yd, 1e-4, atol, "direct conv forward" + what);
      }
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void poolingForwardAndBackward(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(10);
    // n, c, h, w, window, stride, pad top and left, pad bottom and right: plain 2×2 (rows of 4,
    // and of 10: vectors and a tail), overlapping, padded, window over the edge; TensorFlow's
    // 'same' on sizes that leave its one extra row and column at the bottom and right only.
    int[][] shapes = {
      {2, 3, 8, 8, 2, 2, 0, 0},
      {2, 3, 24, 21, 2, 2, 0, 0},
      {1, 2, 9, 7, 3, 2, 0, 0},
      {2, 2, 6, 7, 3, 1, 1, 1},
      {1, 1, 7, 7, 2, 2, 0, 0},
      {3, 4, 5, 5, 5, 5, 0, 0},
      {2, 2, 6, 6, 3, 2, 0, 1},
      {1, 3, 7, 7, 2, 2, 0, 1}
    };
    for (int[] s : shapes) {
      int outH = ConvGeometry.outputSize(s[2], s[4], s[5], s[6], s[7], 1);
      int outW = ConvGeometry.outputSize(s[3], s[4], s[5], s[6], s[7], 1);
      ConvGeometry g =
          new ConvGeometry(
              s[0], s[1], s[2], s[3], s[1], s[4], s[4], s[5], s[5], s[6], s[6], 1, 1, outH, outW);
      for (PoolMode mode : PoolMode.values()) {
        String what = " " + mode + " " + g;
        Tensor x = random(r, g.n() * g.inputPlaneSize());
        // Ties, as after a ReLU: the CPU routes the gradient to the first maximum, like the
        // reference. cuDNN does not document which of equal maxima it picks, so not on CUDA.
        if (mode == PoolMode.MAX && s[0] > 1 && !TestBackends.isCuda(b)) {
          for (int i = 0; i < x.size(); i++) {
            x.array()[i] = Math.max(0, Math.round(x.array()[i] * 2)) / 2f;
          }
        }
        Tensor ye = Tensor.zeros(g.n() * g.outputImageSize()), y = Tensor.zeros(ye.size());
        REF.poolForward(mode, g, x, ye);
        b.poolForward(mode, g, x, y);
        assertClose(ye, y, 1e-6, 1e-6, "pool forward" + what);
        Tensor dy = random(r, ye.size()), dxe = Tensor.zeros(x.size()), dx = random(r, x.size());
        REF.poolBackward(mode, g, x, ye, dy, dxe);
        b.poolBackward(mode, g, x, ye, dy, dx);
        assertClose(dxe, dx, 1e-6, 1e-6, "pool backward" + what);
      }
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void batchNormTrainingInferenceAndBackward(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(11);
    // n, c, spatial, and optionally a mean far from 0 beside a small spread (300 ± 0.05), where
    // variance from plain sums of x and x² in float would cancel. Spatial 1 with 37 or 20 channels
    // runs the CPU's vectors of channels and its partial last block; 70 images and 40 images of 9
    // values fold the float lanes into the double sums more than once.
    int[][] shapes = {
      {8, 5, 1},
      {4, 3, 30},
      {1, 2, 16},
      {128, 32, 49},
      {16, 4, 33, 1},
      {70, 37, 1},
      {70, 20, 1, 1},
      {40, 6, 9}
    };
    for (int[] s : shapes) {
      int n = s[0], c = s[1], spatial = s[2], size = n * c * spatial;
      String what = " n=" + n + " c=" + c + " spatial=" + spatial + (s.length > 3 ? " offset" : "");
      Tensor x = random(r, size), gamma = random(r, c), beta = random(r, c);
      if (s.length > 3) {
        float[] v = x.array();
        for (int i = 0; i < v.length; i++) {
          v[i] = 300 + 0.05f * v[i];
        }
      }
      Tensor rm = random(r, c), rv = Tensor.zeros(c);
      java.util.Arrays.fill(rv.array(), 1.5f);
      Tensor rme = rm.copy(), rve = rv.copy();
      Tensor me = Tensor.zeros(c), m = Tensor.zeros(c), ise = Tensor.zeros(c), is = Tensor.zeros(c);
      Tensor ye = Tensor.zeros(size), y = Tensor.zeros(size);
      // the reference's own running and saved statistics, beside the backend's
      BatchNormArgs expected =
          new BatchNormArgs(n, c, spatial, gamma, beta, rme, rve, 0.1f, 1e-3f, me, ise);
      BatchNormArgs actual =
          new BatchNormArgs(n, c, spatial, gamma, beta, rm, rv, 0.1f, 1e-3f, m, is);
      REF.batchNormForwardTraining(expected, x, ye);
      b.batchNormForwardTraining(actual, x, y);
      // y = x·scale + shift loses float digits to x's offset (cuDNN's formula too): 300·34 − 10⁴
      double yTol = s.length > 3 ? 2e-3 : 1e-5;
      assertClose(ye, y, 1e-4, yTol, "bn training" + what);
      assertClose(rme, rm, 1e-5, 1e-6, "bn running mean" + what);
      assertClose(rve, rv, 1e-5, 1e-6, "bn running var" + what);
      REF.batchNormForwardInference(expected, x, ye);
      b.batchNormForwardInference(actual, x, y);
      assertClose(ye, y, 1e-4, yTol, "bn inference" + what);
      Tensor dy = random(r, size), dxe = Tensor.zeros(size), dx = Tensor.zeros(size);
      Tensor dge = Tensor.zeros(c),
          dg = Tensor.zeros(c),
          dbe = Tensor.zeros(c),
          db = Tensor.zeros(c);
      REF.batchNormBackward(expected, x, dy, dxe, dge, dbe);
      b.batchNormBackward(actual, x, dy, dx, dg, db);
      assertClose(dxe, dx, 1e-3, 1e-5, "bn backward dx" + what);
      assertClose(dge, dg, 1e-4, 1e-4, "bn backward dgamma" + what);
      assertClose(dbe, db, 1e-4, 1e-4, "bn backward dbeta" + what);

      // With a ReLU after it (Fusion): the backend's fused passes against the reference's two.
      // The reference masks dy by this backend's y, so an element that rounds to 0 on one side
      // only cannot decide the test; the CPU recomputes its test from x, which must agree with y.
      REF.batchNormReluForwardTraining(expected, x, ye);
      b.batchNormReluForwardTraining(actual, x, y);
      assertClose(ye, y, 1e-4, yTol, "bn + relu training" + what);
      REF.batchNormReluForwardInference(expected, x, ye);
      Tensor yInference = Tensor.zeros(size);
      b.batchNormReluForwardInference(actual, x, yInference);
      assertClose(ye, yInference, 1e-4, yTol, "bn + relu inference" + what);
      Tensor dyRef = dy.copy(), dyOwn = dy.copy();
      REF.batchNormReluBackward(expected, x, y, dyRef, dxe, dge, dbe);
      b.batchNormReluBackward(actual, x, y, dyOwn, dx, dg, db);
      assertClose(dxe, dx, 1e-3, 1e-5, "bn + relu backward dx" + what);
      assertClose(dge, dg, 1e-4, 1e-4, "bn + relu backward dgamma" + what);
      assertClose(dbe, db, 1e-4, 1e-4, "bn + relu backward dbeta" + what);
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void labelsOutsideTheClassesAreRejected(String name, Backend b) {
    Tensor logits = Tensor.zeros(2, 10), labels = Tensor.of(new float[] {3, 10}, 2);
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> b.softmaxCrossEntropy(logits, labels, null, 2, 10, 1f));
    org.junit.jupiter.api.Assertions.assertTrue(
        e.getMessage().contains("label 10.0 at row 1"), e.getMessage());
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void dropoutMasksAreIdenticalAcrossBackendsAndKeepTheRightFraction(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(7);
    int n = 100_003;
    Tensor x = random(r, n), ye = Tensor.zeros(n), y = Tensor.zeros(n);
    Tensor me = Tensor.zeros(n), m = Tensor.zeros(n);
    REF.dropoutForward(x, ye, me, 0.3f, 1234L);
    b.dropoutForward(x, y, m, 0.3f, 1234L);
    assertArrayEquals(me.array(), m.array(), "dropout mask");
    assertClose(ye, y, 0, 0, "dropout output");
    int kept = 0;
    for (float v : m.array()) {
      kept += v != 0 ? 1 : 0;
    }
    assertEquals(0.7, kept / (double) n, 0.01, "fraction kept");
    Tensor dy = random(r, n), dxe = Tensor.zeros(n), dx = Tensor.zeros(n);
    REF.dropoutBackward(dy, me, dxe);
    b.dropoutBackward(dy, m, dx);
    assertClose(dxe, dx, 0, 0, "dropout backward");
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void optimizerUpdatesMatchReferenceOverSeveralSteps(String name, Backend b) {
    SplittableRandom r = new SplittableRandom(8);
    for (int n : new int[] {1, 31, 100_000}) {
      // SGD: plain, momentum, Nesterov, weight decay.
      float[][] sgd = {{0.1f, 0f, 0f, 0f}, {0.05f, 0.9f, 0f, 0f}, {0.05f, 0.9f, 1f, 1e-3f}};
      for (float[] c : sgd) {
        Tensor pe = random(r, n), p = pe.copy(), ve = Tensor.zeros(n), v = Tensor.zeros(n);
        for (int step = 0; step < 3; step++) {
          Tensor g = random(r, n);
          REF.sgdUpdate(pe, g, ve, c[0], c[1], c[2] != 0, c[3]);
          b.sgdUpdate(p, g, v, c[0], c[1], c[2] != 0, c[3]);
        }
        assertClose(pe, p, 1e-5, 1e-6, "sgd " + java.util.Arrays.toString(c) + " n=" + n);
        assertClose(ve, v, 1e-5, 1e-6, "sgd velocity n=" + n);
      }
      for (boolean decoupled : new boolean[] {false, true}) {
        Tensor pe = random(r, n), p = pe.copy();
        Tensor me = Tensor.zeros(n), m = Tensor.zeros(n), ve = Tensor.zeros(n), v = Tensor.zeros(n);
        for (int step = 1; step <= 4; step++) {
          Tensor g = random(r, n);
          REF.adamUpdate(pe, g, me, ve, 1e-2f, 0.9f, 0.999f, 1e-7f, step, 1e-2f, decoupled);
          b.adamUpdate(p, g, m, v, 1e-2f, 0.9f, 0.999f, 1e-7f, step, 1e-2f, decoupled);
        }
        assertClose(pe, p, 1e-5, 1e-6, "adam decoupled=" + decoupled + " n=" + n);
        assertClose(me, m, 1e-5, 1e-7, "adam m n=" + n);
        assertClose(ve, v, 1e-5, 1e-8, "adam v n=" + n);
      }
    }
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("backends")
  void adamFlushesSubnormalMomentsToZero(String name, Backend b) {
    Tensor p = Tensor.of(new float[] {1f}, 1), g = Tensor.of(new float[] {0f}, 1);
    Tensor m = Tensor.of(new float[] {1e-31f}, 1), v = Tensor.of(new float[] {1e-31f}, 1);
    b.adamUpdate(p, g, m, v, 1e-3f, 0.9f, 0.999f, 1e-7f, 10, 0f, false);
    assertEquals(0f, m.get(0), "m below the flush threshold");
    assertEquals(0f, v.get(0), "v below the flush threshold");
    assertEquals(1f, p.get(0), "parameter unchanged");
  }
}
