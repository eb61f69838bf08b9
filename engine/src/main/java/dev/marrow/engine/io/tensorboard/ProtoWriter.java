package dev.marrow.engine.io.tensorboard;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The few protocol-buffer encodings an event file needs, written by hand so that the engine keeps
 * no dependency on protobuf-java. Fields are written in the order they are called; nested messages
 * are encoded first and then written as bytes.
 */
final class ProtoWriter {
  private static final int VARINT = 0, FIXED64 = 1, LENGTH_DELIMITED = 2, FIXED32 = 5;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  ProtoWriter int64(int field, long value) {
    tag(field, VARINT);
    varint(value);
    return this;
  }

  ProtoWriter float64(int field, double value) {
    tag(field, FIXED64);
    littleEndian(Double.doubleToRawLongBits(value), 8);
    return this;
  }

  ProtoWriter float32(int field, float value) {
    tag(field, FIXED32);
    littleEndian(Float.floatToRawIntBits(value), 4);
    return this;
  }

  ProtoWriter string(int field, String value) {
    return bytes(field, value.getBytes(StandardCharsets.UTF_8));
  }

  ProtoWriter message(int field, ProtoWriter message) {
    return bytes(field, message.toByteArray());
  }

  /** A repeated double in proto3's default packed form: one length, then 8 bytes each. */
  ProtoWriter packedDoubles(int field, double[] values) {
    tag(field, LENGTH_DELIMITED);
    varint(8L * values.length);
    for (double v : values) {
      littleEndian(Double.doubleToRawLongBits(v), 8);
    }
    return this;
  }

  byte[] toByteArray() {
    return out.toByteArray();
  }

  private ProtoWriter bytes(int field, byte[] value) {
    tag(field, LENGTH_DELIMITED);
    varint(value.length);
    out.writeBytes(value);
    return this;
  }

  private void tag(int field, int wireType) {
    varint((long) field << 3 | wireType);
  }

  // Unsigned base-128, low group first; a negative int64 takes all ten bytes, as protobuf says.
  private void varint(long value) {
    while ((value & ~0x7FL) != 0) {
      out.write((int) (value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out.write((int) value);
  }

  private void littleEndian(long bits, int byteCount) {
    for (int i = 0; i < byteCount; i++) {
      out.write((int) (bits >>> (8 * i)) & 0xFF);
    }
  }
}
