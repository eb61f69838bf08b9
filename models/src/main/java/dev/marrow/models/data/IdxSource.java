package dev.marrow.models.data;

import dev.marrow.engine.data.Batch;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.data.Targets;
import dev.marrow.engine.io.AtomicFiles;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.models.mnist.IdxFormatException;
import dev.marrow.models.mnist.IdxReader;
import dev.marrow.models.mnist.Mnist;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * A pair of raw IDX files (images (N, rows, cols) and labels (N), unsigned bytes) read from disk as
 * batches are asked for: memory holds the labels (N bytes) and one batch of pixels, whatever the
 * images file's size. Samples are (1, rows, cols), scaled to [0, 1] exactly as {@link Mnist#load}
 * scales them, so training on this source gives the same weights as training on the loaded data
 * set.
 *
 * <p>Streaming needs the raw files: a gzip stream cannot be read at an offset without inflating
 * everything before it. {@link #open} refuses a .gz file with a message that says so; {@link
 * #gunzip} writes the raw file once, where the caller chooses (a temporary folder would silently
 * hold a second copy of a large data set on disk).
 */
public final class IdxSource implements DataSource, AutoCloseable {
  private static final int MAX_PIXELS = 1 << 24; // a batch of them must fit in one array

  private final Path imagesFile;
  private final int count;
  private final int rows;
  private final int cols;
  private final long headerBytes;
  private final byte[] labels;
  private final Targets targets;
  // A RandomAccessFile, not a FileChannel: a FileChannel closes itself when the reading thread is
  // interrupted, and BatchReader interrupts its reader thread whenever a pass ends early.
  private final RandomAccessFile images;
  private byte[] scratch = new byte[0];
  private boolean closed;

  private IdxSource(Path imagesFile, int[] dims, byte[] labels, int classes) throws IOException {
    this.imagesFile = imagesFile;
    this.count = dims[0];
    this.rows = dims[1];
    this.cols = dims[2];
    this.headerBytes = 4 + 4L * dims.length;
    this.labels = labels;
    this.targets = Targets.classes(classes);
    this.images = new RandomAccessFile(imagesFile.toFile(), "r");
  }

  /** Opens an images/labels pair of raw IDX files with MNIST's ten classes. */
  public static IdxSource open(Path imagesFile, Path labelsFile) throws IOException {
    return open(imagesFile, labelsFile, Mnist.CLASSES);
  }

  /**
   * Opens an images/labels pair of raw IDX files whose labels lie in [0, classes). Checks both
   * headers against the files' sizes, the counts against each other, and every label, so that
   * training never meets a bad file halfway through an epoch.
   *
   * @throws IdxFormatException naming the file and what was expected
   */
  public static IdxSource open(Path imagesFile, Path labelsFile, int classes) throws IOException {
    int[] dims = IdxReader.readHeader(imagesFile, 3);
    if ((long) dims[1] * dims[2] > MAX_PIXELS) {
      throw new IdxFormatException(
          imagesFile
              + ": images of "
              + dims[1]
              + "×"
              + dims[2]
              + " pixels; expected at most "
              + MAX_PIXELS
              + " per image");
    }
    IdxReader.IdxData labelData = IdxReader.read(labelsFile, 1);
    if (labelData.count() != dims[0]) {
      throw new IdxFormatException(
          imagesFile
              + " holds "
              + dims[0]
              + " images but "
              + labelsFile
              + " holds "
              + labelData.count()
              + " labels");
    }
    byte[] labels = labelData.data();
    for (int i = 0; i < labels.length; i++) {
      if ((labels[i] & 0xff) >= classes) {
        throw new IdxFormatException(
            labelsFile
                + ": label "
                + (labels[i] & 0xff)
                + " of sample "
                + i
                + " at offset "
                + (8 + i)
                + " is outside [0, "
                + classes
                + ")");
      }
    }
    return new IdxSource(imagesFile, dims, labels, classes);
  }

  /**
   * Writes the raw contents of a gzip-compressed IDX file into {@code dir} (its name without
   * ".gz"), atomically, and returns the new file's path.
   */
  public static Path gunzip(Path gzFile, Path dir) throws IOException {
    String name = gzFile.getFileName().toString();
    Path target = dir.resolve(name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name);
    try (InputStream in = new GZIPInputStream(Files.newInputStream(gzFile), 1 << 16)) {
      AtomicFiles.write(target, out -> in.transferTo(out));
    } catch (java.util.zip.ZipException e) {
      throw new IdxFormatException(gzFile + ": not a readable gzip file (" + e.getMessage() + ")");
    }
    return target;
  }

  @Override
  public int size() {
    return count;
  }

  @Override
  public Shape sampleShape() {
    return Shape.of(1, rows, cols);
  }

  @Override
  public Targets targets() {
    return targets;
  }

  @Override
  public boolean streams() {
    return true;
  }

  // Synchronized: one file position and one scratch buffer. DataSource promises one reader at a
  // time, but evaluate() may be called from several threads on the same source.
  @Override
  public synchronized void read(int[] indices, int from, int count, Batch batch) {
    if (closed) {
      throw new IllegalStateException(imagesFile + ": the source is closed");
    }
    int pixels = rows * cols;
    if (scratch.length < count * pixels) {
      scratch = new byte[count * pixels];
    }
    // Runs of consecutive samples (all of an evaluation pass) are one read each.
    for (int r = 0; r < count; ) {
      int first = indices == null ? from + r : indices[from + r];
      int run = 1;
      while (r + run < count && sampleAt(indices, from + r + run) == first + run) {
        run++;
      }
      readPixels(first, run, r * pixels);
      r += run;
    }
    float[] x = batch.features();
    for (int i = 0; i < count * pixels; i++) {
      x[i] = (scratch[i] & 0xff) / 255f; // as Mnist.load, to the bit
    }
    int[] y = batch.labels();
    for (int r = 0; r < count; r++) {
      y[r] = labels[sampleAt(indices, from + r)] & 0xff;
    }
    batch.setRows(count);
  }

  private static int sampleAt(int[] indices, int position) {
    return indices == null ? position : indices[position];
  }

  private void readPixels(int first, int samples, int offset) {
    int pixels = rows * cols;
    long position = headerBytes + (long) first * pixels;
    try {
      images.seek(position);
      images.readFully(scratch, offset, samples * pixels);
    } catch (IOException e) {
      throw new UncheckedIOException(
          imagesFile + ": cannot read samples " + first + ".." + (first + samples - 1), e);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    closed = true;
    images.close();
  }

  @Override
  public String toString() {
    return "IdxSource[" + imagesFile + ", " + count + " × " + sampleShape() + "]";
  }
}
