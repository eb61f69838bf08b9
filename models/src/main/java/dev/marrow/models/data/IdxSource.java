package dev.marrow.models.data;

import dev.marrow.engine.data.Batch;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.data.Targets;
import dev.marrow.engine.io.AtomicFiles;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.models.mnist.IdxFormatException;
import dev.marrow.models.mnist.IdxReader;
import dev.marrow.models.mnist.Mnist;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * A pair of raw IDX files (images (N, rows, cols) and labels (N), unsigned bytes) read from disk as
 * batches are asked for: the heap holds the labels (N bytes) and one batch of pixels, whatever the
 * images file's size ({@link IdxPixels} says how the bytes are read). Samples are (1, rows, cols),
 * scaled to [0, 1] exactly as {@link Mnist#load} scales them, so training on this source gives the
 * same weights as training on the loaded data set.
 *
 * <p>Streaming needs the raw files: a gzip stream cannot be read at an offset without inflating
 * everything before it. {@link #open} refuses a .gz file with a message that says so; {@link
 * #gunzip} writes the raw file once, where the caller chooses (a temporary folder would silently
 * hold a second copy of a large data set on disk).
 */
public final class IdxSource implements DataSource, AutoCloseable {
  private static final int MAX_PIXELS = 1 << 24; // a batch of them must fit in one array

  /**
   * Byte b as a pixel: (b & 0xff) / 255f, as Mnist.load computes it, to the bit. A table lookup
   * converted MNIST's 47 M bytes a third faster than the division.
   */
  private static final float[] UNIT = new float[256];

  static {
    for (int b = 0; b < 256; b++) {
      UNIT[b] = b / 255f;
    }
  }

  private final Path imagesFile;
  private final int count;
  private final int rows;
  private final int cols;
  private final long headerBytes;
  private final byte[] labels;
  private final Targets targets;
  private final IdxPixels images;
  private byte[] bytes = new byte[0];
  private boolean closed;

  private IdxSource(Path imagesFile, int[] dims, byte[] labels, int classes) throws IOException {
    this.imagesFile = imagesFile;
    this.count = dims[0];
    this.rows = dims[1];
    this.cols = dims[2];
    this.headerBytes = 4 + 4L * dims.length;
    this.labels = labels;
    this.targets = Targets.classes(classes);
    this.images = IdxPixels.open(imagesFile, headerBytes + (long) count * rows * cols);
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

  // Synchronized: one byte buffer; DataSource promises one reader at a time, but evaluate() may be
  // called from several threads on the same source.
  @Override
  public synchronized void read(int[] indices, int from, int count, Batch batch) {
    if (closed) {
      throw new IllegalStateException(imagesFile + ": the source is closed");
    }
    requireUnchanged(indices, from, count);
    int pixels = rows * cols;
    if (bytes.length < count * pixels) {
      bytes = new byte[count * pixels];
    }
    // Runs of consecutive samples (all of an evaluation pass) are one copy each.
    for (int r = 0; r < count; ) {
      int first = sampleAt(indices, from + r), run = 1;
      while (r + run < count && sampleAt(indices, from + r + run) == first + run) {
        run++;
      }
      images.copy(headerBytes + (long) first * pixels, bytes, r * pixels, run * pixels);
      r += run;
    }
    float[] x = batch.features();
    for (int i = 0; i < count * pixels; i++) {
      x[i] = UNIT[bytes[i] & 0xff];
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

  // Touching a mapped page past the end of a file that shrank would kill the JVM with SIGBUS (or
  // an InternalError): one size check per batch turns that into an error naming the file, for
  // both ways of reading.
  private void requireUnchanged(int[] indices, int from, int count) {
    int last = 0;
    for (int r = 0; r < count; r++) {
      last = Math.max(last, sampleAt(indices, from + r));
    }
    long needed = headerBytes + (last + 1L) * rows * cols;
    long size;
    try {
      size = Files.size(imagesFile);
    } catch (IOException e) {
      throw new UncheckedIOException(imagesFile + ": cannot read it any more", e);
    }
    if (size < needed) {
      throw new UncheckedIOException(
          imagesFile
              + ": cannot read samples "
              + sampleAt(indices, from)
              + ".."
              + sampleAt(indices, from + count - 1),
          new EOFException(
              "the file was cut to " + size + " bytes while open; these samples end at " + needed));
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      images.close();
    }
  }

  @Override
  public String toString() {
    return "IdxSource[" + imagesFile + ", " + count + " × " + sampleShape() + "]";
  }
}
