package dev.marrow.engine.backend;

/**
 * The shapes of a 2-D convolution or pooling over NCHW tensors, as a cuDNN descriptor set would
 * hold them: input (n, c, h, w), filters (f, c, kh, kw), output (n, f, outH, outW). Padding is
 * given as top/left; bottom/right padding is whatever makes the output size come out, so
 * TensorFlow's asymmetric 'same' padding is expressible. For pooling, f = c.
 */
public record ConvGeometry(
    int n,
    int c,
    int h,
    int w,
    int f,
    int kh,
    int kw,
    int strideH,
    int strideW,
    int padTop,
    int padLeft,
    int dilationH,
    int dilationW,
    int outH,
    int outW) {

  public ConvGeometry {
    if (n < 1
        || c < 1
        || h < 1
        || w < 1
        || f < 1
        || kh < 1
        || kw < 1
        || strideH < 1
        || strideW < 1
        || dilationH < 1
        || dilationW < 1
        || padTop < 0
        || padLeft < 0) {
      throw new IllegalArgumentException(
          "invalid convolution geometry "
              + describe(
                  n, c, h, w, f, kh, kw, strideH, strideW, padTop, padLeft, dilationH, dilationW));
    }
    if (outH < 1 || outW < 1) {
      throw new IllegalArgumentException(
          "a "
              + kh
              + "×"
              + kw
              + " window (dilation "
              + dilationH
              + "×"
              + dilationW
              + ") does not fit an input of "
              + h
              + "×"
              + w
              + " with this padding");
    }
  }

  /** Output size with symmetric padding {@code pad} on each side (PyTorch's convention). */
  public static int outputSize(
      int in, int k, int stride, int padBefore, int padAfter, int dilation) {
    return Math.floorDiv(in + padBefore + padAfter - dilation * (k - 1) - 1, stride) + 1;
  }

  /** Elements of one image's input (c·h·w). */
  public int inputPlaneSize() {
    return c * h * w;
  }

  /** Elements of one image's output (f·outH·outW). */
  public int outputImageSize() {
    return f * outH * outW;
  }

  /** Rows of the im2col matrix: c·kh·kw. */
  public int patchSize() {
    return c * kh * kw;
  }

  public int outputPixels() {
    return outH * outW;
  }

  private static String describe(int... v) {
    return java.util.Arrays.toString(v);
  }
}
