package dev.marrow.models.mnist;

import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;

/** The MNIST data set as Marrow data sets: images (N, 1, 28, 28) scaled to [0, 1], 10 classes. */
public final class Mnist {
  public static final int CLASSES = 10;

  /** The standard 60 000 / 10 000 split. */
  public record Split(Dataset train, Dataset test) {}

  private Mnist() {}

  /** Loads from a directory that holds the four files (raw or .gz), as {@link MnistFiles} finds. */
  public static Split load(Path dir) throws IOException {
    Dataset train =
        load(
            MnistFiles.resolve(dir, MnistFiles.File.TRAIN_IMAGES),
            MnistFiles.resolve(dir, MnistFiles.File.TRAIN_LABELS));
    Dataset test =
        load(
            MnistFiles.resolve(dir, MnistFiles.File.TEST_IMAGES),
            MnistFiles.resolve(dir, MnistFiles.File.TEST_LABELS));
    return new Split(train, test);
  }

  /** Reads one images/labels pair of IDX files into a data set. */
  public static Dataset load(Path imagesFile, Path labelsFile) throws IOException {
    IdxReader.IdxData images = IdxReader.read(imagesFile, 3);
    IdxReader.IdxData labels = IdxReader.read(labelsFile, 1);
    if (images.count() != labels.count()) {
      throw new IdxFormatException(
          imagesFile
              + " holds "
              + images.count()
              + " images but "
              + labelsFile
              + " holds "
              + labels.count()
              + " labels");
    }
    int rows = images.dims()[1], cols = images.dims()[2];
    byte[] px = images.data();
    float[] x = new float[px.length];
    for (int i = 0; i < px.length; i++) {
      x[i] = (px[i] & 0xff) / 255f;
    }
    int[] y = new int[labels.count()];
    for (int i = 0; i < y.length; i++) {
      y[i] = labels.data()[i] & 0xff;
      if (y[i] >= CLASSES) {
        throw new IdxFormatException(
            labelsFile
                + ": label "
                + y[i]
                + " of sample "
                + i
                + " at offset "
                + (8 + i)
                + " is not a digit 0-9");
      }
    }
    Tensor features = Tensor.wrap(x, Shape.of(images.count(), 1, rows, cols));
    return new Dataset(features, y, CLASSES);
  }
}
