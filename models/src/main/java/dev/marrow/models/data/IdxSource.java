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
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
  // Positional reads (pread): one system call per sample, where RandomAccessFile takes two (seek,
  // read). Reopened when an interrupt closes it (readAt).
  private FileChannel images;
  private ByteBuffer scratch = ByteBuffer.allocateDirect(0);
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
    this.images = FileChannel.open(imagesFile, StandardOpenOption.READ);
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

  // Synchronized: one scratch buffer, and a channel that readAt may replace. DataSource promises
  // one
  // reader at a time, but evaluate() may be called from several threads on the same source.
  @Override
  public synchronized void read(int[] indices, int from, int count, Batch batch) {
    if (closed) {
      throw new IllegalStateException(imagesFile + ": the source is closed");
    }
    int pixels = rows * cols;
    if (scratch.capacity() < count * pixels) {
      scratch = ByteBuffer.allocateDirect(count * pixels);
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
    if (bytes.length < count * pixels) {
      bytes = new byte[count * pixels];
    }
    scratch.get(0, bytes, 0, count * pixels);
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

  private void readPixels(int first, int samples, int offset) {
    int pixels = rows * cols;
    long position = headerBytes + (long) first * pixels;
    ByteBuffer into = scratch.limit(offset + samples * pixels).position(offset);
    try {
      while (into.hasRemaining()) {
        int n = readAt(into, position + into.position() - offset);
        if (n < 0) {
          throw new EOFException(
              "the file ends before byte " + (position + into.position() - offset));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          imagesFile + ": cannot read samples " + first + ".." + (first + samples - 1), e);
    }
  }

  // A FileChannel closes itself when the thread reading it is interrupted, and BatchReader
  // interrupts its reader thread whenever a pass ends early: reopen, read with the interrupt put
  // aside, and hand it back, so that this read and every later epoch still work.
  private int readAt(ByteBuffer into, long position) throws IOException {
    try {
      return images.read(into, position);
    } catch (ClosedByInterruptException e) {
      boolean interrupted = Thread.interrupted();
      try {
        images = FileChannel.open(imagesFile, StandardOpenOption.READ);
        return images.read(into, position);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
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
