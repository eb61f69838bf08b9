package dev.marrow.engine.io.tensorboard;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Writes a TensorFlow event file, {@code events.out.tfevents.<unix seconds>.<host>}, that
 * TensorBoard reads: a sequence of TFRecords, each a length, the masked CRC32C of the length, a
 * serialized {@code tensorflow.Event} and the masked CRC32C of that. The first event is the file
 * version. Events are kept in memory until {@link #flush}, which appends them in one write and
 * syncs, so a crash loses at most the events since the last flush and leaves whole records. IO
 * errors are thrown as {@link UncheckedIOException}s that name the file.
 */
public final class EventFileWriter implements AutoCloseable {
  // tensorflow.Event's fields (tensorflow/core/util/event.proto).
  private static final int EVENT_WALL_TIME = 1,
      EVENT_STEP = 2,
      EVENT_FILE_VERSION = 3,
      EVENT_SUMMARY = 5;
  // tensorflow.Summary and Summary.Value (tensorflow/core/framework/summary.proto).
  private static final int SUMMARY_VALUE = 1, VALUE_TAG = 1, VALUE_SIMPLE = 2, VALUE_HISTO = 5;
  // The constant TFRecord adds to a rotated CRC, so that a CRC of data holding CRCs stays strong.
  private static final int CRC_MASK_DELTA = 0xa282ead8;

  private final Path file;
  private final FileChannel channel;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

  private EventFileWriter(Path file, FileChannel channel) {
    this.file = file;
    this.channel = channel;
  }

  /** Creates a new event file in {@code dir} (made if missing) and writes the version event. */
  public static EventFileWriter create(Path dir) {
    long seconds = System.currentTimeMillis() / 1000;
    String name = "events.out.tfevents." + seconds + "." + hostName();
    Path file = dir.resolve(name);
    try {
      Files.createDirectories(dir);
      FileChannel channel = null;
      // Two writers started in the same second in one folder must not share a file.
      for (int n = 1; channel == null; n++) {
        try {
          channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
          file = dir.resolve(name + "." + n);
        }
      }
      EventFileWriter writer = new EventFileWriter(file, channel);
      writer.append(event(0).string(EVENT_FILE_VERSION, "brain.Event:2"));
      writer.flush();
      return writer;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + file + ": " + e.getMessage(), e);
    }
  }

  public Path file() {
    return file;
  }

  /** A scalar ({@code simple_value}, a float as TensorFlow stores it) at a step. */
  public void scalar(String tag, long step, double value) {
    summary(step, new ProtoWriter().string(VALUE_TAG, tag).float32(VALUE_SIMPLE, (float) value));
  }

  /** A histogram ({@code histo}) at a step. */
  public void histogram(String tag, long step, Histogram h) {
    // tensorflow.HistogramProto's fields, in order.
    ProtoWriter histo =
        new ProtoWriter()
            .float64(1, h.min())
            .float64(2, h.max())
            .float64(3, h.num())
            .float64(4, h.sum())
            .float64(5, h.sumSquares())
            .packedDoubles(6, h.bucketLimits())
            .packedDoubles(7, h.bucketCounts());
    summary(step, new ProtoWriter().string(VALUE_TAG, tag).message(VALUE_HISTO, histo));
  }

  /** Appends the events written since the last flush to the file and syncs it. */
  public void flush() {
    if (pending.size() == 0) {
      return;
    }
    try {
      ByteBuffer buf = ByteBuffer.wrap(pending.toByteArray());
      while (buf.hasRemaining()) {
        channel.write(buf);
      }
      channel.force(false);
      pending.reset();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Flushes and closes the file. */
  @Override
  public void close() {
    try (channel) {
      flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
    }
  }

  private void summary(long step, ProtoWriter value) {
    append(event(step).message(EVENT_SUMMARY, new ProtoWriter().message(SUMMARY_VALUE, value)));
  }

  private static ProtoWriter event(long step) {
    ProtoWriter event =
        new ProtoWriter().float64(EVENT_WALL_TIME, System.currentTimeMillis() / 1000.0);
    return step == 0 ? event : event.int64(EVENT_STEP, step); // proto3 leaves 0 out
  }

  // One TFRecord: uint64 length, uint32 masked CRC of the length, data, uint32 masked CRC of data.
  private void append(ProtoWriter event) {
    byte[] data = event.toByteArray();
    ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    header.putLong(data.length);
    header.putInt(maskedCrc(header.array(), 0, 8));
    pending.writeBytes(header.array());
    pending.writeBytes(data);
    pending.writeBytes(
        ByteBuffer.allocate(4)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putInt(maskedCrc(data, 0, data.length))
            .array());
  }

  static int maskedCrc(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + CRC_MASK_DELTA;
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost"; // only a part of the file name; TensorBoard does not read it
    }
  }
}
