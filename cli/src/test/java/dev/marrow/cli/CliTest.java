package dev.marrow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
  @TempDir Path tmp;

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void summaryPrintsLayersAndParameterCounts() {
    Result r = run("summary", "--model", "mlp");
    assertEquals(0, r.code(), r.err());
    // 784·128 + 128 + 128·10 + 10, as Keras reports for the beginner tutorial's model.
    assertTrue(r.out().contains("Total params: 101,770"), r.out());
    assertTrue(r.out().contains("dense1 (Dense)") && r.out().contains("(None, 128)"), r.out());
    Result n = run("summary", "--model", "nielsen");
    assertTrue(n.out().contains("Total params: 23,860"), n.out());
  }

  @Test
  void everyHelpTextRendersWithoutPicocliWarnings() {
    // picocli formats descriptions with String.format and, on a bare '%', prints a warning to
    // System.err (three, for --augment) on every --help instead of failing.
    java.io.PrintStream stderr = System.err;
    java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
    StringBuilder usage = new StringBuilder();
    try {
      System.setErr(new java.io.PrintStream(warnings, true));
      for (picocli.CommandLine sub :
          new picocli.CommandLine(new Main()).getSubcommands().values()) {
        usage.append(sub.getUsageMessage());
      }
    } finally {
      System.setErr(stderr);
    }
    assertEquals("", warnings.toString());
    assertTrue(usage.toString().contains("shift (up to 10%)"), usage.toString());
  }

  @Test
  void summaryPlotDrawsTheGraph() throws Exception {
    Path png = tmp.resolve("plots").resolve("cnn.png");
    Result r = run("summary", "--model", "cnn", "--plot", png.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("Total params:"), r.out());
    assertTrue(r.out().strip().endsWith(")") && r.out().contains("Model plot: " + png), r.out());
    java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
    // Eight boxes (the input and seven layers) stacked: taller than wide.
    assertTrue(img != null && img.getWidth() >= 200 && img.getHeight() >= 8 * 60, png.toString());
  }

  @Test
  void summaryPlotToABadPathExitsWithTwoAndOneLine() throws Exception {
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    for (String bad :
        new String[] {
          file.resolve("cnn.png").toString(),
          Files.createDirectories(tmp.resolve("folder.png")).toString(),
          tmp.resolve("cnn.svg").toString()
        }) {
      Result r = run("summary", "--model", "cnn", "--plot", bad);
      assertEquals(2, r.code(), bad + ": " + r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().startsWith("marrow: --plot " + bad), r.err());
      assertEquals("", r.out(), "nothing printed before the error");
    }
    assertEquals("x", Files.readString(file), "the file in the way is left as it was");
  }

  @Test
  void userErrorsExitWithTwoAndNameTheProblem() {
    Result unknown = run("train", "--model", "resnet9000");
    assertEquals(2, unknown.code());
    assertTrue(
        unknown.err().contains("unknown model 'resnet9000'")
            && unknown.err().contains("mlp, mlp-dropout, nielsen"),
        unknown.err());

    Result epochs = run("train", "--model", "mlp", "--epochs", "0");
    assertEquals(2, epochs.code());
    assertTrue(epochs.err().contains("--epochs must be at least 1, got 0"), epochs.err());

    Result lr = run("train", "--model", "mlp", "--lr", "-0.1");
    assertEquals(2, lr.code());
    assertTrue(lr.err().contains("--lr must be a positive number"), lr.err());

    Result split = run("train", "--model", "mlp", "--validation-split", "1.5");
    assertEquals(2, split.code());
    assertTrue(split.err().contains("--validation-split"), split.err());

    Result schedule = run("train", "--model", "mlp", "--lr-schedule", "cosine-per-epoch");
    assertEquals(2, schedule.code());
    assertTrue(
        schedule
            .err()
            .contains(
                "unknown --lr-schedule 'cosine-per-epoch'; expected step, exponential, cosine,"
                    + " cosine-per-step, constant"),
        schedule.err());

    Result flag = run("train", "--model", "mlp", "--bogus");
    assertEquals(2, flag.code());
    assertTrue(flag.err().contains("Unknown option: '--bogus'"), flag.err());

    Result notNumber = run("train", "--model", "mlp", "--batch-size", "lots");
    assertEquals(2, notNumber.code());
    assertTrue(notNumber.err().contains("--batch-size"), notNumber.err());

    Result optimizer =
        run(
            "train",
            "--model",
            "mlp",
            "--optimizer",
            "rmsprop",
            "--offline",
            "--cache-dir",
            tmp.toString());
    assertEquals(2, optimizer.code());
    assertTrue(optimizer.err().contains("unknown --optimizer 'rmsprop'"), optimizer.err());

    Path file = tmp.resolve("a-file");
    try {
      Files.writeString(file, "x");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Result out = run("train", "--model", "mlp", "--out", file.resolve("run").toString());
    assertEquals(2, out.code());
    assertTrue(
        out.err().contains("cannot create run folder --out " + file.resolve("run")), out.err());

    Result resume = run("train", "--resume", tmp.resolve("no-such-run").toString());
    assertEquals(2, resume.code());
    assertTrue(resume.err().contains("no run.json"), resume.err());

    Result predict = run("predict", "--model", tmp.toString(), "x.png");
    assertEquals(2, predict.code());
  }

  @Test
  void aNamedDataDirThatFailsVerificationIsAnErrorNotAFallBack() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Files.writeString(data.resolve("train-images-idx3-ubyte"), "not an IDX file");
    Result r =
        run(
            "train",
            "--model",
            "mlp",
            "--offline",
            "--data-dir",
            data.toString(),
            "--cache-dir",
            tmp.resolve("empty-cache").toString(),
            "--out",
            tmp.resolve("run").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(
        r.err().contains("--data-dir " + data + ": train-images-idx3-ubyte has SHA-256"), r.err());
    assertTrue(r.err().contains("(corrupt or not MNIST)"), r.err());
    assertFalse(r.err().contains("cache"), "the cache was not consulted: " + r.err());
    assertFalse(Files.exists(tmp.resolve("run")), "no run folder is left behind");
  }

  @Test
  void trainWritesMetricsAndEndsWithTheTestAccuracy() throws Exception {
    Path out = tmp.resolve("run");
    Result r =
        run(
            "train",
            "--model",
            "mlp",
            "--epochs",
            "1",
            "--batch-size",
            "128",
            "--validation-split",
            "0.1",
            "--out",
            out.toString());
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().strip().split("\n");
    String last = lines[lines.length - 1];
    assertTrue(last.matches("test_accuracy=0\\.\\d{4} test_loss=\\d+\\.\\d{4}"), last);
    assertTrue(r.out().contains("Epoch 1/1") && r.out().contains("val_accuracy"), r.out());

    JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
    assertEquals("mlp", m.get("model").asText());
    assertEquals("cpu", m.get("device").asText());
    assertTrue(m.get("threads").asInt() >= 1);
    assertEquals(42, m.get("seed").asLong());
    JsonNode epoch = m.get("epochs").get(0);
    for (String key :
        new String[] {
          "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds", "samples_per_second"
        }) {
      assertTrue(epoch.has(key), "epoch field " + key + " in " + epoch);
    }
    double accuracy = m.get("test_accuracy").asDouble();
    assertTrue(accuracy > 0.9, "one epoch of the Keras MLP on 54k images: " + accuracy);
    assertEquals(
        String.format(java.util.Locale.ROOT, "test_accuracy=%.4f", accuracy), last.split(" ")[0]);
    assertTrue(m.get("train_seconds").asDouble() > 0);
    assertFalse(m.has("startup_seconds"), "not started by the launcher: nothing to measure from");
    assertTrue(Files.readString(out.resolve("history.csv")).startsWith("epoch,loss,accuracy"));
    for (String file :
        new String[] {"model.json", "model.safetensors", "checkpoint.safetensors", "run.json"}) {
      assertTrue(Files.size(out.resolve(file)) > 0, file);
    }
    for (String png : new String[] {"curves.png", "confusion.png", "samples.png"}) {
      java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(out.resolve(png).toFile());
      assertTrue(img != null && img.getWidth() >= 600 && img.getHeight() >= 400, png);
    }
    // The mlp's graph: input, flatten, two dense layers (and dropout) in a column of boxes.
    java.awt.image.BufferedImage model =
        javax.imageio.ImageIO.read(out.resolve("model.png").toFile());
    assertTrue(
        model != null && model.getWidth() >= 200 && model.getHeight() >= 4 * 60, "model.png");

    // evaluate reloads the saved model and must reproduce the test accuracy exactly.
    Result eval = run("evaluate", "--model", out.toString());
    assertEquals(0, eval.code(), eval.err());
    assertTrue(eval.out().contains("precision") && eval.out().contains("recall"), eval.out());
    assertTrue(eval.out().strip().endsWith(last), eval.out() + " vs " + last);

    // predict on a picture drawn like a phone photo: dark ink on white, larger, off-centre.
    dev.marrow.engine.data.Dataset test =
        dev.marrow.models.mnist.Mnist.load(
                new dev.marrow.models.mnist.MnistFiles(
                        null, dev.marrow.models.mnist.MnistFiles.defaultCacheDir(), x -> {})
                    .locate())
            .test();
    Path png = tmp.resolve("digit.png");
    writePhoto(test, 0, png);
    Result p = run("predict", "--model", out.toString(), png.toString());
    assertEquals(0, p.code(), p.err());
    assertTrue(p.out().startsWith(png + ": " + test.label(0)), p.out());
    Result bad = run("predict", "--model", out.toString(), tmp.resolve("nope.png").toString());
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("nope.png: no such file"), bad.err());

    Files.delete(out.resolve("confusion.png"));
    Files.delete(out.resolve("model.png"));
    Result plot = run("plot", out.toString());
    assertEquals(0, plot.code(), plot.err());
    assertTrue(Files.size(out.resolve("confusion.png")) > 0);
    assertTrue(Files.size(out.resolve("model.png")) > 0);
  }

  /** Test image i, 4× larger, inverted (dark on white) and shifted, as a user's picture is. */
  static void writePhoto(dev.marrow.engine.data.Dataset d, int i, Path png) throws Exception {
    java.awt.image.BufferedImage img =
        new java.awt.image.BufferedImage(150, 130, java.awt.image.BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 130; y++) {
      for (int x = 0; x < 150; x++) {
        int sx = Math.floorDiv(x - 30, 4), sy = Math.floorDiv(y - 10, 4);
        float v =
            sx >= 0 && sx < 28 && sy >= 0 && sy < 28 ? d.features().get(i * 784 + sy * 28 + sx) : 0;
        int g = Math.round(255 * (1 - v));
        img.setRGB(x, y, (g << 16) | (g << 8) | g);
      }
    }
    javax.imageio.ImageIO.write(img, "png", png.toFile());
  }

  @Test
  void resumeContinuesARunToTheSameWeightsAsOneUninterruptedRun() throws Exception {
    Path straight = tmp.resolve("straight"), resumed = tmp.resolve("resumed");
    String[] common = {"--model", "mlp-dropout", "--batch-size", "256", "--no-plots"};
    assertEquals(0, run(concat(common, "--epochs", "3", "--out", straight.toString())).code());
    assertEquals(0, run(concat(common, "--epochs", "2", "--out", resumed.toString())).code());
    Result r = run("train", "--resume", resumed.toString(), "--epochs", "3", "--no-plots");
    assertEquals(0, r.code(), r.err());
    assertFalse(Files.exists(resumed.resolve("model.png")), "--no-plots draws no model.png");
    assertTrue(r.out().contains("resuming mlp-dropout after epoch 2 of 3"), r.out());
    var a = dev.marrow.engine.io.SafeTensors.read(straight.resolve("model.safetensors"));
    var b = dev.marrow.engine.io.SafeTensors.read(resumed.resolve("model.safetensors"));
    for (String name : a.tensors().keySet()) {
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          a.tensors().get(name).array(), b.tensors().get(name).array(), name);
    }
    assertEquals(4, Files.readAllLines(resumed.resolve("history.csv")).size());
    Result refused = run("train", "--resume", resumed.toString(), "--lr", "0.1");
    assertEquals(2, refused.code());
  }

  @Test
  void metricsRecordTheStartUpFromTheLaunchersClock() throws Exception {
    Path idx = tmp.resolve("idx");
    writeIdx(idx, "train", 64);
    writeIdx(idx, "t10k", 16);
    Path out = tmp.resolve("timed");
    // The launcher started "5 s ago": training begins 5 s plus this run's own set-up later.
    java.time.Instant now = java.time.Instant.now();
    String launched =
        (now.getEpochSecond() - 5) + "." + String.format("%06d", now.getNano() / 1000);
    System.setProperty(StartupClock.PROPERTY, launched);
    long before = System.nanoTime();
    Result r;
    try {
      r =
          run(
              "train",
              "--model",
              "mlp",
              "--dataset",
              "idx:" + idx,
              "--epochs",
              "1",
              "--no-plots",
              "--no-progress",
              "--out",
              out.toString());
    } finally {
      System.clearProperty(StartupClock.PROPERTY);
    }
    double elapsed = (System.nanoTime() - before) / 1e9;
    assertEquals(0, r.code(), r.err());
    JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
    double startup = m.get("startup_seconds").asDouble();
    assertTrue(startup >= 5 && startup <= 5 + elapsed, startup + " s, the run took " + elapsed);
  }

  @Test
  void tensorboardWritesEventFilesForTrainAndValidation() throws Exception {
    Path idx = tmp.resolve("idx");
    writeIdx(idx, "train", 40);
    writeIdx(idx, "t10k", 10);
    Path logs = tmp.resolve("logs");
    Result r =
        run(
            "train",
            "--model",
            "mlp",
            "--epochs",
            "1",
            "--batch-size",
            "10",
            "--dataset",
            "idx:" + idx,
            "--validation-split",
            "0.25",
            "--threads",
            "1",
            "--no-plots",
            "--out",
            tmp.resolve("run").toString(),
            "--tensorboard",
            logs.toString());
    assertEquals(0, r.code(), r.err());
    for (String split : new String[] {"train", "validation"}) {
      try (var files = Files.list(logs.resolve(split))) {
        Path file = files.findFirst().orElseThrow();
        assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."), split);
        assertTrue(Files.size(file) > 0, split);
      }
    }
    Result bad = run("train", "--model", "mlp", "--tensorboard-histogram-freq", "-1");
    assertEquals(2, bad.code(), bad.err());
  }

  /** {@code count} random 28×28 images and labels 0-9 as MNIST's raw IDX files. */
  static void writeIdx(Path dir, String prefix, int count) throws Exception {
    StartupTraining.writeIdx(dir, prefix, count);
  }

  static String[] concat(String[] a, String... b) {
    String[] out = new String[a.length + b.length + 1];
    out[0] = "train";
    System.arraycopy(a, 0, out, 1, a.length);
    System.arraycopy(b, 0, out, 1 + a.length, b.length);
    return out;
  }
}
