package dev.marrow.engine.train.callbacks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.io.tensorboard.Histogram;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.train.BatchLogs;
import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.History;
import dev.marrow.engine.train.Trainer;
import dev.marrow.engine.train.TrainerTest;
import dev.marrow.engine.train.TrainingContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.framework.HistogramProto;
import org.tensorflow.framework.Summary;
import org.tensorflow.util.Event;

/**
 * Trains a small model with the callback and reads the event files back with TensorFlow's own
 * generated classes, checking every record's CRCs with a CRC32C written here, bit by bit.
 */
class TensorBoardTest {
  @TempDir Path dir;

  /** Each epoch's parameter values and gradients, seen by a callback after TensorBoard's. */
  private static final class Recorder implements Callback {
    final List<Map<String, float[]>> values = new ArrayList<>();
    final List<Map<String, float[]>> grads = new ArrayList<>();
    final Map<Long, double[]> batches = new TreeMap<>(); // global step -> {loss, accuracy}
    int epoch;

    @Override
    public void onEpochBegin(TrainingContext ctx, int epoch) {
      this.epoch = epoch;
    }

    @Override
    public void onBatchEnd(TrainingContext ctx, int batch, BatchLogs logs) {
      batches.put(
          (long) (epoch - 1) * ctx.stepsPerEpoch() + batch + 1,
          new double[] {logs.loss(), logs.get("accuracy")});
    }

    @Override
    public void onEpochEnd(TrainingContext ctx, EpochStats s) {
      Map<String, float[]> v = new HashMap<>(), g = new HashMap<>();
      for (Parameter p : ctx.model().parameters()) {
        v.put(p.name(), p.value().readArray().clone());
        g.put(p.name(), p.grad().readArray().clone());
      }
      values.add(v);
      grads.add(g);
    }
  }

  private static History fit(FitOptions options, int epochs) {
    try (CpuBackend cpu = new CpuBackend(1)) {
      Trainer t =
          new Trainer(
              TrainerTest.mlp(3), new Adam(1e-2), new SparseCategoricalCrossentropy(true), cpu);
      return t.fit(TrainerTest.sectors(600, 21), options.epochs(epochs).batchSize(100).seed(5));
    }
  }

  @Test
  void epochScalarsAndHistogramsReadBackWithTensorFlowsClasses() throws IOException {
    Recorder rec = new Recorder();
    History h =
        fit(
            FitOptions.defaults()
                .validationSplit(0.25)
                .callback(new TensorBoard(dir, 2, "epoch"))
                .callback(rec),
            3);

    List<Event> train = readEvents(onlyFile(dir.resolve("train")));
    assertEquals("brain.Event:2", train.getFirst().getFileVersion());
    assertTrue(train.getFirst().getWallTime() > 1.6e9, "wall time in Unix seconds");
    Map<String, Map<Long, Float>> scalars = scalars(train);
    assertEquals(
        Map.of("epoch_loss", 3, "epoch_accuracy", 3, "epoch_learning_rate", 3),
        counts(scalars),
        "epoch-level scalars only, by default");
    List<Event> validation = readEvents(onlyFile(dir.resolve("validation")));
    Map<String, Map<Long, Float>> valScalars = scalars(validation);
    for (EpochStats s : h.epochs()) {
      long step = s.epoch();
      assertEquals((float) s.loss(), scalars.get("epoch_loss").get(step), "loss " + step);
      assertEquals((float) s.accuracy(), scalars.get("epoch_accuracy").get(step));
      assertEquals((float) s.learningRate(), scalars.get("epoch_learning_rate").get(step));
      assertEquals((float) s.valLoss(), valScalars.get("epoch_loss").get(step));
      assertEquals((float) s.valAccuracy(), valScalars.get("epoch_accuracy").get(step));
    }

    // histogramFreq 2: epochs 1 and 3, as Keras' 0-based epochs 0 and 2.
    Map<String, Map<Long, HistogramProto>> histograms = histograms(train);
    List<String> names = rec.values.getFirst().keySet().stream().sorted().toList();
    assertEquals(4, names.size()); // two Dense layers: weight and bias each
    for (String name : names) {
      for (String suffix : new String[] {"/histogram", "/gradient"}) {
        assertEquals(List.of(1L, 3L), List.copyOf(histograms.get(name + suffix).keySet()));
      }
      for (int epoch : new int[] {1, 3}) {
        checkHistogram(
            rec.values.get(epoch - 1).get(name),
            histograms.get(name + "/histogram").get((long) epoch),
            name);
        checkHistogram(
            rec.grads.get(epoch - 1).get(name),
            histograms.get(name + "/gradient").get((long) epoch),
            name + " gradient");
      }
    }
  }

  @Test
  void batchScalarsAtGlobalStepsWhenRequested() throws IOException {
    Recorder rec = new Recorder();
    History h = fit(FitOptions.defaults().callback(new TensorBoard(dir, 0, "2")).callback(rec), 2);
    assertFalse(Files.exists(dir.resolve("validation")), "no validation data, no folder");
    Map<String, Map<Long, Float>> scalars = scalars(readEvents(onlyFile(dir.resolve("train"))));
    // 600 samples in batches of 100: 6 steps an epoch, global steps 1..12, every second one.
    assertEquals(
        List.of(2L, 4L, 6L, 8L, 10L, 12L), List.copyOf(scalars.get("batch_loss").keySet()));
    for (long step : scalars.get("batch_loss").keySet()) {
      assertEquals((float) rec.batches.get(step)[0], scalars.get("batch_loss").get(step));
      assertEquals((float) rec.batches.get(step)[1], scalars.get("batch_accuracy").get(step));
    }
    // The last batch's running means are the epoch's figures.
    assertEquals((float) h.last().loss(), scalars.get("batch_loss").get(12L));
    assertEquals(
        Map.of(
            "batch_loss",
            6,
            "batch_accuracy",
            6,
            "epoch_loss",
            2,
            "epoch_accuracy",
            2,
            "epoch_learning_rate",
            2),
        counts(scalars),
        "no histograms");
  }

  /**
   * A second, independent reader: Python with Google's protobuf runtime and its own CRC32C
   * (engine/src/test/python/read_tensorboard.py), where Debian's python3-protobuf and protoc are
   * installed; skipped elsewhere.
   */
  @Test
  void pythonsProtobufReadsTheSameValues() throws Exception {
    Path script =
        Path.of(System.getProperty("marrow.repo.root", ".."))
            .resolve("engine/src/test/python/read_tensorboard.py");
    assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/python3"))
            && Files.exists(script)
            && new ProcessBuilder("/usr/bin/python3", "-c", "import google.protobuf")
                    .start()
                    .waitFor()
                == 0
            && Files.isExecutable(Path.of("/usr/bin/protoc")),
        "needs /usr/bin/python3 with python3-protobuf and protoc");
    History h =
        fit(
            FitOptions.defaults().validationSplit(0.25).callback(new TensorBoard(dir, 1, "epoch")),
            2);
    Process p =
        new ProcessBuilder("/usr/bin/python3", script.toString(), dir.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    for (EpochStats e : h.epochs()) {
      assertTrue(
          out.contains(
              String.format(
                  java.util.Locale.ROOT, "step %d epoch_loss = %.6f", e.epoch(), (float) e.loss())),
          "train loss of epoch " + e.epoch() + " in:\n" + out);
      assertTrue(
          out.contains(
              String.format(
                  java.util.Locale.ROOT,
                  "step %d epoch_loss = %.6f",
                  e.epoch(),
                  (float) e.valLoss())),
          "val loss of epoch " + e.epoch() + " in:\n" + out);
    }
    assertEquals(2, out.lines().filter(l -> l.endsWith("every CRC correct")).count(), out);
    assertTrue(out.contains("dense1.weight/histogram: num "), out);
  }

  @Test
  void histogramBucketsAreEqualWidthAndConstantTensorsGetOne() {
    Histogram h = Histogram.of(new float[] {0, 3, 3, 1.5f, Float.NaN, 2.9f});
    assertEquals(5, h.num(), "NaN left out");
    assertEquals(Histogram.BUCKETS, h.bucketLimits().length);
    assertEquals(0.1, h.bucketLimits()[0], 1e-12);
    assertEquals(3.0, h.bucketLimits()[Histogram.BUCKETS - 1]);
    assertEquals(5, Arrays.stream(h.bucketCounts()).sum());
    assertEquals(3, h.bucketCounts()[Histogram.BUCKETS - 1], "2.9 and the maximum, twice");
    Histogram constant = Histogram.of(new float[] {0.5f, 0.5f});
    assertArrayEquals(new double[] {0.5}, constant.bucketLimits());
    assertArrayEquals(new double[] {2}, constant.bucketCounts());
    assertThrows(IllegalArgumentException.class, () -> new TensorBoard(dir, 1, "0"));
    assertThrows(IllegalArgumentException.class, () -> new TensorBoard(dir, 1, "batches"));
  }

  @Test
  void bitwiseCrc32cMatchesTheStandardCheckValue() {
    // The check value of CRC-32C (Castagnoli) for "123456789", from RFC 3720's reference.
    byte[] digits = "123456789".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0xE3069283, crc32c(digits, 0, digits.length));
  }

  private static void checkHistogram(float[] values, HistogramProto h, String what) {
    double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0;
    for (float v : values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    assertEquals(values.length, h.getNum(), what + " num");
    assertEquals(min, h.getMin(), what + " min");
    assertEquals(max, h.getMax(), what + " max");
    assertEquals(sum, h.getSum(), 1e-9 * (1 + Math.abs(sum)), what + " sum");
    assertEquals(h.getBucketCount(), h.getBucketLimitCount(), what);
    assertEquals(values.length, h.getBucketList().stream().mapToDouble(d -> d).sum(), what);
    assertEquals(max, h.getBucketLimit(h.getBucketLimitCount() - 1), what + " last edge");
  }

  private static Path onlyFile(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      List<Path> all = files.toList();
      assertEquals(1, all.size(), "one event file in " + folder + ": " + all);
      assertTrue(all.getFirst().getFileName().toString().startsWith("events.out.tfevents."));
      return all.getFirst();
    }
  }

  /** Reads TFRecords, checking both CRCs of each, and parses each as a tensorflow.Event. */
  private static List<Event> readEvents(Path file) throws IOException {
    ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    List<Event> events = new ArrayList<>();
    while (in.hasRemaining()) {
      int at = in.position();
      long length = in.getLong();
      assertEquals(masked(crc32c(in.array(), at, 8)), in.getInt(), "length CRC at " + at);
      byte[] data = new byte[Math.toIntExact(length)];
      in.get(data);
      assertEquals(masked(crc32c(data, 0, data.length)), in.getInt(), "data CRC at " + at);
      events.add(Event.parseFrom(data));
    }
    return events;
  }

  private static Map<String, Map<Long, Float>> scalars(List<Event> events) {
    Map<String, Map<Long, Float>> out = new TreeMap<>();
    for (Event e : events) {
      for (Summary.Value v : e.getSummary().getValueList()) {
        if (v.getValueCase() == Summary.Value.ValueCase.SIMPLE_VALUE) {
          assertTrue(
              out.computeIfAbsent(v.getTag(), t -> new TreeMap<>())
                      .put(e.getStep(), v.getSimpleValue())
                  == null,
              v.getTag() + " twice");
        }
      }
    }
    return out;
  }

  private static Map<String, Map<Long, HistogramProto>> histograms(List<Event> events) {
    Map<String, Map<Long, HistogramProto>> out = new TreeMap<>();
    for (Event e : events) {
      for (Summary.Value v : e.getSummary().getValueList()) {
        if (v.hasHisto()) {
          out.computeIfAbsent(v.getTag(), t -> new TreeMap<>()).put(e.getStep(), v.getHisto());
        }
      }
    }
    return out;
  }

  private static Map<String, Integer> counts(Map<String, Map<Long, Float>> scalars) {
    Map<String, Integer> out = new HashMap<>();
    scalars.forEach((tag, steps) -> out.put(tag, steps.size()));
    return out;
  }

  // CRC-32C bit by bit (reflected polynomial 0x82F63B78): no code shared with the writer's.
  private static int crc32c(byte[] bytes, int offset, int length) {
    int crc = ~0;
    for (int i = offset; i < offset + length; i++) {
      crc ^= bytes[i] & 0xFF;
      for (int bit = 0; bit < 8; bit++) {
        crc = (crc >>> 1) ^ (0x82F63B78 & -(crc & 1));
      }
    }
    return ~crc;
  }

  private static int masked(int crc) {
    return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
  }
}
