package dev.marrow.models.data;

/**
 * Resamples float planes (C, h, w) to (C, outH, outW), one axis at a time: area averaging along an
 * axis that shrinks (each output pixel is the mean of the source area it covers, partial pixels
 * weighted by their overlap, as OpenCV's INTER_AREA and PIL's BOX), bilinear along an axis that
 * grows (pixel centres aligned, edges clamped, as OpenCV's INTER_LINEAR and TensorFlow's resize).
 *
 * <p>Why not Graphics2D: its bilinear filter reads only the 4 nearest pixels, so shrinking by more
 * than 2× skips most of the image and aliases; getScaledInstance's area averaging goes through the
 * old ImageProducer pipeline; and drawing converts gray images through colour spaces (a gray value
 * of 100 reads back as 168 through getRGB). On floats of the decoded samples the result is exact,
 * the same for gray and RGB, and checkable by hand.
 */
final class Resize {
  /** Along one axis, output pixel o is the weighted sum of source pixels first[o] + k. */
  record Taps(int[] first, float[][] weights) {}

  private Resize() {}

  static Taps taps(int in, int out) {
    int[] first = new int[out];
    float[][] weights = new float[out][];
    double scale = (double) in / out;
    for (int o = 0; o < out; o++) {
      if (in >= out) {
        double lo = o * scale, hi = (o + 1) * scale;
        int a = (int) Math.floor(lo), b = Math.min(in, (int) Math.ceil(hi));
        first[o] = a;
        weights[o] = new float[b - a];
        for (int i = a; i < b; i++) {
          weights[o][i - a] = (float) ((Math.min(hi, i + 1) - Math.max(lo, i)) / scale);
        }
      } else {
        double centre = Math.clamp((o + 0.5) * scale - 0.5, 0, in - 1);
        int a = (int) Math.floor(centre);
        float f = (float) (centre - a);
        first[o] = a;
        weights[o] = a + 1 < in ? new float[] {1 - f, f} : new float[] {1};
      }
    }
    return new Taps(first, weights);
  }

  /** One row of w samples, resampled into outW samples at {@code dst[dstOffset..]}. */
  static void row(float[] src, int srcOffset, Taps taps, float[] dst, int dstOffset) {
    for (int o = 0; o < taps.first.length; o++) {
      float[] w = taps.weights[o];
      int s = srcOffset + taps.first[o];
      float sum = 0;
      for (int k = 0; k < w.length; k++) {
        sum += w[k] * src[s + k];
      }
      dst[dstOffset + o] = sum;
    }
  }

  /**
   * Resamples the columns of planes (C, h, outW) into (C, outH, outW). Rows were resampled first,
   * so the wide source image is never held as floats.
   */
  static float[] columns(float[] planes, int channels, int h, int outW, int outH) {
    Taps taps = taps(h, outH);
    float[] out = new float[channels * outH * outW];
    for (int c = 0; c < channels; c++) {
      int in = c * h * outW, dst = c * outH * outW;
      for (int o = 0; o < outH; o++) {
        float[] w = taps.weights[o];
        int s = in + taps.first[o] * outW;
        for (int x = 0; x < outW; x++) {
          float sum = 0;
          for (int k = 0; k < w.length; k++) {
            sum += w[k] * planes[s + k * outW + x];
          }
          out[dst + o * outW + x] = sum;
        }
      }
    }
    return out;
  }
}
