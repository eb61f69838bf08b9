package dev.marrow.models.data;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

/**
 * How image files become samples (C, height, width) with values in [0, 1], the same for training
 * ({@link ImageFolder}) and prediction: decoded strictly (see {@link ImageDecoder}), gray (C = 1)
 * or RGB (C = 3), resized to height × width without keeping the aspect ratio, as Keras' {@code
 * image_dataset_from_directory(image_size=..., color_mode=...)} does.
 *
 * <p>Colour: an RGB image read as gray is the ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B (PIL's
 * {@code convert("L")}); a gray image read as RGB repeats its channel; gray samples are taken as
 * stored (a 16-bit PNG divided by 65535), never passed through Java2D's linear-gray colour space.
 * Alpha is dropped, as PIL's {@code convert("RGB")} and TensorFlow's decoders with 3 channels do.
 * Resizing: {@link Resize}.
 *
 * @param height rows of every sample
 * @param width columns of every sample
 * @param grayscale 1 channel if true, else 3 (R, G, B)
 */
public record ImageLoader(int height, int width, boolean grayscale) {
  private static final int MAX_SIDE = 4096;

  public ImageLoader {
    if (height < 1 || width < 1 || height > MAX_SIDE || width > MAX_SIDE) {
      throw new IllegalArgumentException(
          "image size " + height + "×" + width + "; expected 1.." + MAX_SIDE + " on each side");
    }
  }

  public int channels() {
    return grayscale ? 1 : 3;
  }

  /** (channels, height, width). */
  public Shape sampleShape() {
    return Shape.of(channels(), height, width);
  }

  /** One file as a sample (C, H, W), row-major. */
  public float[] read(Path file) throws IOException {
    return preprocess(ImageDecoder.decode(file));
  }

  /**
   * Files as a batch (N, C, H, W), for prediction. Decoded in parallel; on failure the exception of
   * the first bad file in the list's order.
   */
  public Tensor read(List<Path> files) throws IOException {
    int size = sampleShape().size();
    if ((long) files.size() * size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          files.size()
              + " images of "
              + sampleShape()
              + " are more floats than one array holds; use fewer or smaller images");
    }
    float[] x = new float[files.size() * size];
    IOException[] failures = new IOException[files.size()];
    IntStream.range(0, files.size())
        .parallel()
        .forEach(
            i -> {
              try {
                System.arraycopy(read(files.get(i)), 0, x, i * size, size);
              } catch (IOException e) {
                failures[i] = e;
              }
            });
    for (IOException failure : failures) {
      if (failure != null) {
        throw failure;
      }
    }
    return Tensor.wrap(x, Shape.of(files.size(), channels(), height, width));
  }

  /** A decoded image as a sample (C, H, W): colour as the class comment says, then resized. */
  public float[] preprocess(BufferedImage image) {
    int w = image.getWidth(), h = image.getHeight(), c = channels();
    Resize.Taps across = Resize.taps(w, width);
    float[] line = new float[c * w];
    float[] rows = new float[c * h * width]; // (C, h, width): each source row resized on its own
    int[] argb = new int[w];
    for (int y = 0; y < h; y++) {
      readRow(image, y, line, argb);
      for (int ch = 0; ch < c; ch++) {
        Resize.row(line, ch * w, across, rows, (ch * h + y) * width);
      }
    }
    float[] out = Resize.columns(rows, c, h, width, height);
    for (int i = 0; i < out.length; i++) {
      out[i] = Math.clamp(out[i], 0f, 1f); // weights sum to 1 only up to rounding
    }
    return out;
  }

  // Row y as C planes of w samples in [0, 1].
  private void readRow(BufferedImage image, int y, float[] line, int[] argb) {
    int w = image.getWidth();
    ColorModel model = image.getColorModel();
    if (model.getNumColorComponents() == 1 && !(model instanceof IndexColorModel)) {
      Raster raster = image.getRaster();
      float max = (1 << model.getComponentSize(0)) - 1;
      raster.getSamples(0, y, w, 1, 0, line);
      for (int x = 0; x < w; x++) {
        line[x] /= max;
      }
      if (!grayscale) {
        System.arraycopy(line, 0, line, w, w);
        System.arraycopy(line, 0, line, 2 * w, w);
      }
      return;
    }
    image.getRGB(0, y, w, 1, argb, 0, w); // 8-bit sRGB, whatever the palette or colour space
    for (int x = 0; x < w; x++) {
      float r = ((argb[x] >> 16) & 0xff) / 255f;
      float g = ((argb[x] >> 8) & 0xff) / 255f;
      float b = (argb[x] & 0xff) / 255f;
      if (grayscale) {
        line[x] = 0.299f * r + 0.587f * g + 0.114f * b;
      } else {
        line[x] = r;
        line[w + x] = g;
        line[2 * w + x] = b;
      }
    }
  }
}
