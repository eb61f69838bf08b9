package dev.marrow.engine.io;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range, then the raw little-endian data), float32 only.
 * Files written here load with the reference implementation ({@code safetensors.torch.load_file})
 * and vice versa.
 *
 * <p>The reader trusts nothing: the header length, every shape and every offset are checked against
 * the file size and against each other before anything is allocated.
 */
public final class SafeTensors {
  /** Headers larger than this are refused (the reference implementation uses the same limit). */
  static final long MAX_HEADER = 100L * 1024 * 1024;

  private SafeTensors() {}

  /** A malformed or hostile file: names the file and what was wrong where. */
  public static final class FormatException extends IOException {
    public FormatException(String message) {
      super(message);
    }
  }

  /** Writes tensors (in the map's order) and string metadata (sorted by key), atomically. */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata)
      throws IOException {
    Map<String, Object> header = new LinkedHashMap<>();
    if (metadata != null && !metadata.isEmpty()) {
      // Sorted: callers pass Map.of, whose order changes from run to run; files should not.
      header.put("__metadata__", new java.util.TreeMap<>(metadata));
    }
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("dtype", "F32");
      List<Object> shape = new ArrayList<>();
      for (int d : e.getValue().shape().dims()) {
        shape.add((long) d);
      }
      entry.put("shape", shape);
      long bytes = 4L * e.getValue().size();
      entry.put("data_offsets", List.of(offset, offset + bytes));
      header.put(e.getKey(), entry);
      offset += bytes;
    }
    byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
    if (offset + padded + 8 > Integer.MAX_VALUE - 8) {
      throw new IOException(file + ": more than 2 GiB of tensors; not supported yet");
    }
    ByteBuffer buf =
        ByteBuffer.allocate((int) (8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(padded);
    buf.put(json);
    for (int i = json.length; i < padded; i++) {
      buf.put((byte) ' ');
    }
    for (Tensor t : tensors.values()) {
      for (float v : t.readArray()) {
        buf.putFloat(v);
      }
    }
    AtomicFiles.write(file, buf.array());
  }

  /** The tensors of a file, in header order, and its metadata. */
  public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

  public static Contents read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw new FormatException(
            file + ": " + size + " bytes, shorter than the 8-byte header" + " length");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0, file);
      long headerLen = lenBuf.getLong(0);
      if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > size - 8) {
        throw new FormatException(
            file
                + ": header length "
                + headerLen
                + " at offset 0 is"
                + " impossible for a file of "
                + size
                + " bytes (limit "
                + MAX_HEADER
                + ")");
      }
      ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
      readFully(ch, headerBuf, 8, file);
      Object parsed;
      try {
        parsed = Json.parse(new String(headerBuf.array(), StandardCharsets.UTF_8));
      } catch (Json.JsonException e) {
        throw new FormatException(
            file + ": header (offset 8) is not valid JSON: " + e.getMessage());
      }
      if (!(parsed instanceof Map<?, ?> header)) {
        throw new FormatException(file + ": header is not a JSON object");
      }
      long dataStart = 8 + headerLen, dataSize = size - dataStart;
      Map<String, String> metadata = new LinkedHashMap<>();
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      List<long[]> ranges = new ArrayList<>();
      for (Map.Entry<?, ?> e : header.entrySet()) {
        String name = (String) e.getKey();
        if (name.equals("__metadata__")) {
          if (!(e.getValue() instanceof Map<?, ?> m)) {
            throw new FormatException(file + ": __metadata__ is not an object");
          }
          for (Map.Entry<?, ?> me : m.entrySet()) {
            if (!(me.getValue() instanceof String v)) {
              throw new FormatException(
                  file + ": metadata value of \"" + me.getKey() + "\" is not a string");
            }
            metadata.put((String) me.getKey(), v);
          }
          continue;
        }
        TensorEntry t = entry(file, name, e.getValue(), dataSize);
        ranges.add(new long[] {t.begin, t.end});
        ByteBuffer data =
            ByteBuffer.allocate((int) (t.end - t.begin)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, data, dataStart + t.begin, file);
        data.flip();
        float[] values = new float[(int) ((t.end - t.begin) / 4)];
        data.asFloatBuffer().get(values);
        tensors.put(name, Tensor.wrap(values, t.shape));
      }
      checkNoOverlap(file, ranges);
      return new Contents(tensors, metadata);
    }
  }

  private record TensorEntry(Shape shape, long begin, long end) {}

  private static TensorEntry entry(Path file, String name, Object value, long dataSize)
      throws FormatException {
    String where = file + ": tensor \"" + name + "\"";
    if (!(value instanceof Map<?, ?> m)) {
      throw new FormatException(where + " is not an object");
    }
    if (!"F32".equals(m.get("dtype"))) {
      throw new FormatException(where + " has dtype " + m.get("dtype") + "; expected F32");
    }
    if (!(m.get("shape") instanceof List<?> shapeList) || shapeList.size() > 8) {
      throw new FormatException(where + ": shape must be a list of at most 8 dimensions");
    }
    int[] dims = new int[shapeList.size()];
    long elements = 1;
    for (int i = 0; i < dims.length; i++) {
      if (!(shapeList.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
        throw new FormatException(
            where
                + ": dimension "
                + i
                + " is "
                + shapeList.get(i)
                + "; expected a non-negative integer");
      }
      dims[i] = (int) (long) d;
      elements *= d;
      if (elements > dataSize / 4 + 1) {
        throw new FormatException(
            where
                + ": shape "
                + shapeList
                + " needs more data than the "
                + dataSize
                + " bytes the file holds");
      }
    }
    if (!(m.get("data_offsets") instanceof List<?> off)
        || off.size() != 2
        || !(off.get(0) instanceof Long begin)
        || !(off.get(1) instanceof Long end)) {
      throw new FormatException(where + ": data_offsets must be [begin, end]");
    }
    if (begin < 0 || end < begin || end > dataSize) {
      throw new FormatException(
          where
              + ": data_offsets ["
              + begin
              + ", "
              + end
              + "] fall outside"
              + " the "
              + dataSize
              + " data bytes");
    }
    if (end - begin != 4 * elements) {
      throw new FormatException(
          where
              + ": data_offsets span "
              + (end - begin)
              + " bytes but shape "
              + shapeList
              + " of F32 needs "
              + 4 * elements);
    }
    return new TensorEntry(Shape.of(dims), begin, end);
  }

  private static void checkNoOverlap(Path file, List<long[]> ranges) throws FormatException {
    ranges.sort((a, b) -> Long.compare(a[0], b[0]));
    for (int i = 1; i < ranges.size(); i++) {
      if (ranges.get(i)[0] < ranges.get(i - 1)[1]) {
        throw new FormatException(file + ": tensors overlap at data offset " + ranges.get(i)[0]);
      }
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file)
      throws IOException {
    long p = position;
    while (buf.hasRemaining()) {
      int n = ch.read(buf, p);
      if (n < 0) {
        throw new FormatException(file + ": truncated at offset " + p);
      }
      p += n;
    }
  }
}
