package dev.marrow.models.mnist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.data.Dataset;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
  @TempDir Path dir;

  static byte[] idx(int magic, int[] dims, byte[] data) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(magic);
    for (int d : dims) {
      out.writeInt(d);
    }
    out.write(data);
    return bytes.toByteArray();
  }

  static byte[] images(int n, int rows, int cols) throws IOException {
    byte[] px = new byte[n * rows * cols];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (i * 37);
    }
    return idx(0x803, new int[] {n, rows, cols}, px);
  }

  static byte[] labels(int... ys) throws IOException {
    byte[] b = new byte[ys.length];
    for (int i = 0; i < ys.length; i++) {
      b[i] = (byte) ys[i];
    }
    return idx(0x801, new int[] {ys.length}, b);
  }

  Path write(String name, byte[] contents) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, contents);
    return p;
  }

  Path writeGz(String name, byte[] contents) throws IOException {
    Path p = dir.resolve(name);
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(p))) {
      out.write(contents);
    }
    return p;
  }

  @Test
  void readsRawAndGzippedFilesAlike() throws IOException {
    byte[] img = images(3, 4, 5);
    IdxReader.IdxData raw = IdxReader.read(write("img", img), 3);
    IdxReader.IdxData gz = IdxReader.read(writeGz("img.gz", img), 3);
    assertArrayEquals(new int[] {3, 4, 5}, raw.dims());
    assertArrayEquals(raw.dims(), gz.dims());
    assertArrayEquals(raw.data(), gz.data());
    assertArrayEquals(Arrays.copyOfRange(img, 16, img.length), raw.data());
  }

  @Test
  void loadsADatasetScaledToUnitRange() throws IOException {
    Dataset d = Mnist.load(write("i", images(3, 2, 2)), write("l", labels(7, 0, 9)));
    assertEquals(3, d.size());
    assertEquals(7, d.label(0));
    assertEquals(9, d.label(2));
    assertEquals((byte) (5 * 37) & 0xff, Math.round(d.features().get(5) * 255));
    assertEquals(dev.marrow.engine.tensor.Shape.of(1, 2, 2), d.sampleShape());
  }

  void assertRejected(Path file, int rank, String... fragments) {
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.read(file, rank));
    assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "mentions '" + f + "': " + e.getMessage());
    }
  }

  @Test
  void truncatedDataIsReported() throws IOException {
    byte[] img = images(3, 4, 5);
    assertRejected(write("short", Arrays.copyOf(img, img.length - 1)), 3, "truncated", "3×4×5");
    assertRejected(writeGz("short.gz", Arrays.copyOf(img, img.length - 7)), 3, "truncated");
    assertRejected(write("header", Arrays.copyOf(img, 10)), 3, "truncated header");
    assertRejected(write("empty", new byte[0]), 3, "empty");
  }

  @Test
  void trailingBytesAreReported() throws IOException {
    byte[] img = images(2, 2, 2);
    byte[] longer = Arrays.copyOf(img, img.length + 3);
    assertRejected(write("long", longer), 3, "trailing");
    assertRejected(writeGz("long.gz", longer), 3, "trailing");
  }

  @Test
  void wrongMagicOrRankIsReported() throws IOException {
    assertRejected(
        write("png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0}),
        3,
        "bad magic",
        "0x89504e47");
    assertRejected(write("floats", idx(0x0D03, new int[] {1, 1, 1}, new byte[4])), 3, "bad magic");
    assertRejected(write("labels-as-images", labels(1, 2)), 3, "1 dimensions", "expected 3");
  }

  @Test
  void hostileDimensionsAreRejectedBeforeAllocating() throws IOException {
    // 2^31 - 1 images of 28×28 would need 1.6 TB: must fail on the header, not in new byte[].
    assertRejected(
        write("huge", idx(0x803, new int[] {Integer.MAX_VALUE, 28, 28}, new byte[0])),
        3,
        "dimension 0");
    assertRejected(
        write("huge2", idx(0x803, new int[] {100_000, 4096, 4096}, new byte[0])), 3, "more than");
    assertRejected(write("negative", idx(0x803, new int[] {-5, 28, 28}, new byte[0])), 3, "-5");
    assertRejected(write("zero", idx(0x801, new int[] {0}, new byte[0])), 1, "is 0");
    assertRejected(
        writeGz("huge.gz", idx(0x803, new int[] {60_000, 28, 28}, new byte[10])), 3, "truncated");
  }

  @Test
  void countMismatchAndBadLabelsAreReported() throws IOException {
    Path img = write("i", images(3, 2, 2));
    var e = assertThrows(IdxFormatException.class, () -> Mnist.load(img, write("l", labels(1, 2))));
    assertTrue(
        e.getMessage().contains("3 images") && e.getMessage().contains("2 labels"), e.getMessage());
    var bad =
        assertThrows(
            IdxFormatException.class, () -> Mnist.load(img, write("l2", labels(1, 12, 3))));
    assertTrue(bad.getMessage().contains("label 12 of sample 1"), bad.getMessage());
  }
}
