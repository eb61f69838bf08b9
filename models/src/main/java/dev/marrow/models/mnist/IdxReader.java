package dev.marrow.models.mnist;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files (the MNIST format: big-endian magic, dimension sizes, then unsigned bytes), raw
 * or gzip-compressed. Every count is checked against sane limits and, for raw files, against the
 * file's size before anything is allocated, so a hostile header cannot exhaust memory.
 */
public final class IdxReader {
  /** The IDX type code for unsigned bytes, the only element type MNIST uses. */
  private static final int UNSIGNED_BYTE = 0x08;

  private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
  private static final long MAX_STREAMED_ELEMENTS = 1L << 40;
  private static final int MAX_DIMENSION = 1 << 24;

  private IdxReader() {}

  /** An IDX tensor of unsigned bytes. */
  public record IdxData(int[] dims, byte[] data) {
    public int count() {
      return dims[0];
    }
  }

  /** Reads an IDX file of {@code expectedRank} dimensions (1 for labels, 3 for images). */
  public static IdxData read(Path file, int expectedRank) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IdxFormatException(file + ": no such file");
    }
    long fileSize = Files.size(file);
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      raw.mark(2);
      int b0 = raw.read(), b1 = raw.read();
      raw.reset();
      boolean gzip = b0 == 0x1f && b1 == 0x8b;
      InputStream in = gzip ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16)) : raw;
      return read(in, file.toString(), expectedRank, gzip ? -1 : fileSize);
    }
  }

  /**
   * Reads an IDX stream. {@code knownSize} is the stream's total length when known (raw files), or
   * −1; {@code source} names the stream in error messages.
   */
  public static IdxData read(InputStream stream, String source, int expectedRank, long knownSize)
      throws IOException {
    DataInputStream in = new DataInputStream(stream);
    int[] dims = readHeader(in, source, expectedRank, knownSize, MAX_ELEMENTS);
    long elements = elements(dims);
    byte[] data = new byte[(int) elements];
    int read = in.readNBytes(data, 0, data.length);
    if (read != data.length) {
      throw new IdxFormatException(
          source
              + ": truncated: header declares "
              + describe(dims)
              + " = "
              + elements
              + " bytes of data, but the stream ends after "
              + read);
    }
    if (knownSize < 0 && in.read() != -1) {
      throw new IdxFormatException(
          source + ": trailing bytes after the " + elements + " bytes of data the header declares");
    }
    return new IdxData(dims, data);
  }

  /**
   * Reads and checks only the header of a raw (uncompressed) IDX file of {@code expectedRank}
   * dimensions: magic, sizes, and that the file holds exactly the bytes they declare. For readers
   * that then fetch the data piecewise; the data may exceed 2 GB (up to 2^40 bytes). A gzip file is
   * refused with a message that says how to get the raw one.
   */
  public static int[] readHeader(Path file, int expectedRank) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IdxFormatException(file + ": no such file");
    }
    long fileSize = Files.size(file);
    try (DataInputStream in =
        new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 64))) {
      in.mark(2);
      if (in.read() == 0x1f && in.read() == 0x8b) {
        throw new IdxFormatException(
            file
                + ": gzip-compressed; reading samples from disk needs the raw IDX file"
                + " (gunzip -k it, or IdxSource.gunzip)");
      }
      in.reset();
      return readHeader(in, file.toString(), expectedRank, fileSize, MAX_STREAMED_ELEMENTS);
    }
  }

  // Magic and sizes, checked against the limits and, when knownSize >= 0, against the length.
  private static int[] readHeader(
      DataInputStream in, String source, int expectedRank, long knownSize, long maxElements)
      throws IOException {
    int magic;
    try {
      magic = in.readInt();
    } catch (EOFException e) {
      throw new IdxFormatException(source + ": file is empty or shorter than the 4-byte IDX magic");
    }
    if ((magic >>> 16) != 0 || ((magic >>> 8) & 0xff) != UNSIGNED_BYTE) {
      throw new IdxFormatException(
          String.format(
              "%s: bad magic number 0x%08x at offset 0; expected 0x%08x (IDX, unsigned bytes, %d"
                  + " dimensions)",
              source, magic, (UNSIGNED_BYTE << 8) | expectedRank, expectedRank));
    }
    int rank = magic & 0xff;
    if (rank != expectedRank) {
      throw new IdxFormatException(
          source
              + ": magic declares "
              + rank
              + " dimensions at offset 3; expected "
              + expectedRank);
    }
    int[] dims = new int[rank];
    long elements = 1;
    for (int i = 0; i < rank; i++) {
      try {
        dims[i] = in.readInt();
      } catch (EOFException e) {
        throw new IdxFormatException(
            source
                + ": truncated header: dimension "
                + i
                + " at offset "
                + (4 + 4 * i)
                + " is missing");
      }
      if (dims[i] <= 0 || dims[i] > MAX_DIMENSION) {
        throw new IdxFormatException(
            source
                + ": dimension "
                + i
                + " at offset "
                + (4 + 4 * i)
                + " is "
                + dims[i]
                + "; expected 1.."
                + MAX_DIMENSION);
      }
      elements = dims[i] > maxElements / elements ? maxElements + 1 : elements * dims[i];
      if (elements > maxElements) {
        throw new IdxFormatException(
            source + ": header declares more than " + maxElements + " elements");
      }
    }
    long headerSize = 4 + 4L * rank;
    if (knownSize >= 0 && knownSize != headerSize + elements) {
      throw new IdxFormatException(
          source
              + ": header declares "
              + describe(dims)
              + " = "
              + elements
              + " bytes of data after the "
              + headerSize
              + "-byte header, but the file"
              + " has "
              + (knownSize - headerSize)
              + (knownSize < headerSize + elements ? " (truncated)" : " (trailing garbage)"));
    }
    return dims;
  }

  private static long elements(int[] dims) {
    long n = 1;
    for (int d : dims) {
      n *= d;
    }
    return n;
  }

  private static String describe(int[] dims) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < dims.length; i++) {
      b.append(i == 0 ? "" : "×").append(dims[i]);
    }
    return b.toString();
  }
}
