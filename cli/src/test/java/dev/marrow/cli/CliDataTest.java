package dev.marrow.cli;

import static dev.marrow.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI on the user's own data: CSV tables for regression and classification, end to end. */
class CliDataTest {
  @TempDir Path tmp;

  /**
   * price = 3·rooms − 2·age + 0.5·distance² + N(0, 0.2²) over standard-normal features with very
   * different offsets (raw columns a user would export), 1,000 rows; the noise floor is RMSE 0.2,
   * the target's standard deviation ≈ 3.7.
   */
  static Path houses(Path dir, boolean withTarget) throws Exception {
    SplittableRandom r = new SplittableRandom(7);
    StringBuilder csv =
        new StringBuilder(withTarget ? "rooms,age,price,distance\n" : "distance,age,rooms\n");
    for (int i = 0; i < (withTarget ? 1000 : 3); i++) {
      double rooms = r.nextGaussian(), age = r.nextGaussian(), distance = r.nextGaussian();
      double price = 3 * rooms - 2 * age + 0.5 * distance * distance + 0.2 * r.nextGaussian();
      csv.append(
          withTarget
              ? String.format(
                  Locale.ROOT,
                  "%.4f,%.4f,%.4f,%.4f%n",
                  100 + rooms,
                  1990 + 10 * age,
                  price,
                  5 * distance)
              : String.format(
                  Locale.ROOT, "%.4f,%.4f,%.4f%n", 5 * distance, 1990 + 10 * age, 100 + rooms));
    }
    Path f = dir.resolve(withTarget ? "houses.csv" : "new-houses.csv");
    Files.writeString(f, csv);
    return f;
  }

  @Test
  void regressionOnATableTrainsEvaluatesAndPredicts() throws Exception {
    Path csv = houses(tmp, true), runDir = tmp.resolve("run");
    CliTest.Result r =
        run(
            "train",
            "--model",
            "mlp",
            "--data",
            "csv:" + csv,
            "--target",
            "price",
            "--epochs",
            "40",
            "--lr",
            "3e-3",
            "--threads",
            "2",
            "--out",
            runDir.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("on houses.csv (800 train, 200 test, regression)"), r.out());
    JsonNode m = new ObjectMapper().readTree(runDir.resolve("metrics.json").toFile());
    double rmse = m.get("test").get("rmse").asDouble();
    // Far below the target's spread (3.7) and near the noise (0.2): the mlp with standardised
    // inputs fits it; the raw columns (offsets of 100 and 1990) would not train without that.
    assertTrue(rmse < 0.6, "test rmse " + rmse + "\n" + r.out());
    assertTrue(r.out().contains("test_loss="), r.out());
    assertTrue(r.out().contains(" test_rmse="), r.out());
    assertFalse(m.has("test_accuracy"), "no accuracy for regression");
    assertTrue(m.get("epochs").get(0).has("mae"), m.get("epochs").get(0).toString());
    for (String png : new String[] {"curves.png", "regression.png", "model.png"}) {
      assertTrue(Files.size(runDir.resolve(png)) > 1000, png);
    }
    assertFalse(Files.exists(runDir.resolve("confusion.png")));
    assertTrue(
        Files.readString(runDir.resolve("history.csv"))
            .startsWith("epoch,loss,mae,rmse,val_loss,val_mae,val_rmse,seconds"));

    CliTest.Result e = run("evaluate", "--model", runDir.toString());
    assertEquals(0, e.code(), e.err());
    assertTrue(e.out().contains("price"), e.out());
    assertTrue(e.out().contains(String.format(Locale.ROOT, "test_rmse=%.4f", rmse)), e.out());

    // New rows, columns in another order and no price column: the saved standardisation applies.
    Path fresh = houses(tmp, false);
    CliTest.Result p = run("predict", "--model", runDir.toString(), "--data", "csv:" + fresh);
    assertEquals(0, p.code(), p.err());
    assertEquals(
        3,
        p.out().lines().filter(l -> l.matches("row \\d: price=-?\\d+\\.\\d{4}")).count(),
        p.out());
  }

  @Test
  void classificationOnATableNamesItsClasses() throws Exception {
    SplittableRandom r = new SplittableRandom(3);
    StringBuilder csv = new StringBuilder("x,y,kind\n");
    for (int i = 0; i < 600; i++) {
      double x = r.nextGaussian(), y = r.nextGaussian();
      csv.append(
          String.format(
              Locale.ROOT,
              "%.3f,%.3f,%s%n",
              x,
              y,
              x * x + y * y < 1 ? "inner" : x > 0 ? "east" : "west"));
    }
    Path f = tmp.resolve("rings.csv"), runDir = tmp.resolve("rings");
    Files.writeString(f, csv);
    CliTest.Result t =
        run(
            "train",
            "--model",
            "mlp",
            "--data",
            "csv:" + f,
            "--target",
            "kind",
            "--epochs",
            "30",
            "--lr",
            "1e-2",
            "--threads",
            "2",
            "--out",
            runDir.toString());
    assertEquals(0, t.code(), t.err());
    JsonNode m = new ObjectMapper().readTree(runDir.resolve("metrics.json").toFile());
    assertTrue(m.get("test_accuracy").asDouble() > 0.9, t.out());
    Path rows = tmp.resolve("points.csv");
    Files.writeString(rows, "y,x\n0.1,0.1\n0.2,2.5\n0,-2.5\n");
    CliTest.Result p = run("predict", "--model", runDir.toString(), "--data", "csv:" + rows);
    assertEquals(0, p.code(), p.err());
    String[] lines = p.out().strip().split("\n");
    assertTrue(lines[0].startsWith("row 1: inner ("), p.out());
    assertTrue(lines[1].startsWith("row 2: east ("), p.out());
    assertTrue(lines[2].startsWith("row 3: west ("), p.out());
    CliTest.Result e = run("evaluate", "--model", runDir.toString());
    assertTrue(e.out().contains("inner"), e.out());
  }

  @Test
  void aModelFileTrainsLikeAZooModel() throws Exception {
    Path csv = houses(tmp, true), first = tmp.resolve("first"), second = tmp.resolve("second");
    String[] common = {
      "--data", "csv:" + csv, "--target", "price", "--epochs", "2", "--threads", "2"
    };
    assertEquals(
        0,
        run(concat(new String[] {"train", "--model", "mlp", "--out", first.toString()}, common))
            .code());
    // The model.json a run wrote is an architecture file: the same model trains again.
    CliTest.Result r =
        run(
            concat(
                new String[] {
                  "train",
                  "--model-file",
                  first.resolve("model.json").toString(),
                  "--out",
                  second.toString()
                },
                common));
    assertEquals(0, r.code(), r.err());
    assertEquals(
        Files.readString(first.resolve("history.csv"))
            .lines()
            .skip(1)
            .map(l -> l.split(",")[1])
            .toList(),
        Files.readString(second.resolve("history.csv"))
            .lines()
            .skip(1)
            .map(l -> l.split(",")[1])
            .toList(),
        "same architecture, seed and data: the same losses");
  }

  /**
   * Three classes of 20×20 RGB pictures a small cnn tells apart (a red disc, a green square frame,
   * blue vertical stripes) at random places with noise: 30 PNGs per class, and 2 JPEGs.
   */
  static Path photos(Path dir) throws Exception {
    SplittableRandom r = new SplittableRandom(5);
    String[] classes = {"disc", "frame", "stripes"};
    for (int k = 0; k < 3; k++) {
      Path folder = Files.createDirectories(dir.resolve(classes[k]));
      for (int i = 0; i < 32; i++) {
        BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
        int ox = r.nextInt(-3, 4), oy = r.nextInt(-3, 4);
        for (int y = 0; y < 20; y++) {
          for (int x = 0; x < 20; x++) {
            int dx = x - 10 - ox, dy = y - 10 - oy;
            boolean on =
                switch (k) {
                  case 0 -> dx * dx + dy * dy < 30;
                  case 1 -> Math.max(Math.abs(dx), Math.abs(dy)) == 5;
                  default -> (x + ox + 20) % 4 < 2;
                };
            int noise = r.nextInt(40);
            int c = on ? 200 + noise / 2 : noise;
            int rgb =
                k == 0 ? c << 16 | noise << 8 : k == 1 ? noise << 16 | c << 8 : noise << 8 | c;
            img.setRGB(x, y, rgb);
          }
        }
        String format = i < 30 ? "png" : "jpg";
        ImageIO.write(img, format, folder.resolve(String.format("%02d.%s", i, format)).toFile());
      }
    }
    return dir;
  }

  @Test
  void anImageFolderTrainsTheCnnAndPredictNamesTheClasses() throws Exception {
    Path dir = photos(tmp.resolve("photos")), runDir = tmp.resolve("photos-run");
    CliTest.Result r =
        run(
            "train",
            "--model",
            "cnn",
            "--data",
            "images:" + dir,
            "--image-size",
            "20,20",
            "--epochs",
            "8",
            "--batch-size",
            "16",
            "--augment",
            "shift",
            "--threads",
            "2",
            "--out",
            runDir.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("on photos/ (77 train, 19 test, classification)"), r.out());
    JsonNode m = new ObjectMapper().readTree(runDir.resolve("metrics.json").toFile());
    assertTrue(m.get("test_accuracy").asDouble() >= 0.9, r.out());
    for (String png : new String[] {"curves.png", "confusion.png", "samples.png", "model.png"}) {
      assertTrue(Files.size(runDir.resolve(png)) > 1000, png);
    }
    CliTest.Result p =
        run(
            "predict",
            "--model",
            runDir.toString(),
            dir.resolve("disc/31.jpg").toString(),
            dir.resolve("stripes/00.png").toString());
    assertEquals(0, p.code(), p.err());
    String[] lines = p.out().strip().split("\n");
    assertTrue(lines[0].contains("31.jpg: disc  (disc: "), p.out());
    assertTrue(lines[1].contains("00.png: stripes  (stripes: "), p.out());
    CliTest.Result e = run("evaluate", "--model", runDir.toString());
    assertEquals(0, e.code(), e.err());
    assertTrue(e.out().contains("frame"), e.out());
    CliTest.Result folder =
        run("predict", "--model", runDir.toString(), "--data", "images:" + dir.resolve("frame"));
    assertEquals(0, folder.code(), folder.err());
    long frames = folder.out().lines().filter(l -> l.contains(": frame  (")).count();
    assertTrue(frames >= 28, "most of the 32 frames are named frame:\n" + folder.out());

    Files.createDirectories(dir.resolve("empty"));
    CliTest.Result bad =
        run(
            "train",
            "--model",
            "cnn",
            "--data",
            "images:" + dir,
            "--out",
            tmp.resolve("x").toString());
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("empty"), bad.err());
    assertFalse(Files.exists(tmp.resolve("x")));
  }

  @Test
  void streamedIdxFilesTrainLikeLoadedOnes() throws Exception {
    Path idx = tmp.resolve("idx");
    CliTest.writeIdx(idx, "train", 120);
    CliTest.writeIdx(idx, "t10k", 30);
    String[] common = {"--data", "idx:" + idx, "--epochs", "2", "--model", "mlp", "--no-plots"};
    Path loaded = tmp.resolve("loaded"), streamed = tmp.resolve("streamed");
    assertEquals(0, run(concat(new String[] {"train", "--out", loaded.toString()}, common)).code());
    CliTest.Result s =
        run(concat(new String[] {"train", "--stream", "--out", streamed.toString()}, common));
    assertEquals(0, s.code(), s.err());
    assertEquals(
        Files.readString(loaded.resolve("history.csv")).lines().map(l -> l.split(",")[1]).toList(),
        Files.readString(streamed.resolve("history.csv"))
            .lines()
            .map(l -> l.split(",")[1])
            .toList(),
        "the same losses, read from disk or from memory");
  }

  @Test
  void badDataExitsTwoWithOneLineAndLeavesNoRunFolder() throws Exception {
    Path csv = houses(tmp, true);
    Path ragged = tmp.resolve("ragged.csv");
    Files.writeString(ragged, "a,b,y\n1,2,3\n4,5\n");
    Path text = tmp.resolve("text.csv");
    Files.writeString(text, "a,b,y\n1,2,3\n4,five,6\n");
    Path arch = tmp.resolve("arch.json");
    Files.writeString(
        arch,
        "{\"format\": \"marrow.sequential\", \"version\": 1, \"input_shape\": [5],"
            + " \"layers\": [{\"type\": \"dense\", \"config\": {\"units\": 1}}]}");
    String[][] cases = {
      {"--data", "csv:" + ragged, "--target", "y"}, // ragged row
      {"--data", "csv:" + text, "--target", "y"}, // non-numeric feature
      {"--data", "csv:" + csv, "--target", "cost"}, // missing target column
      {"--data", "csv:" + csv}, // no --target
      {"--data", "csv:" + csv, "--target", "price", "--task", "guess"},
      {"--data", "csv:" + csv, "--target", "price", "--augment", "flip"}, // not images
      {"--data", "csv:" + csv, "--target", "price", "--test-split", "1.5"},
      {"--data", "mnist", "--test-split", "0.1", "--offline"},
      {"--data", "csv:" + csv, "--target", "price", "--model", "resnet"}, // digits only
      {"--data", "csv:" + csv, "--target", "price", "--monitor", "val_rmse"}, // no validation
    };
    String[] expected = {
      "ragged.csv: line 3: 2 fields, expected 3 as in the header",
      "text.csv: line 3, column 'b': 'five' is not a number",
      "no target column 'cost'; the columns are [rooms, age, price, distance]",
      "needs --target COLUMN",
      "unknown --task 'guess'",
      "--augment works on images",
      "--test-split must be in (0, 1)",
      "--test-split: mnist has its own test set",
      "model 'resnet' is made for 28×28 digits",
      "--monitor val_rmse: this run logs [loss, mae, rmse] (val_ quantities need --validation-split)",
    };
    for (int i = 0; i < cases.length; i++) {
      Path out = tmp.resolve("bad" + i);
      String[] args = concat(new String[] {"train", "--out", out.toString()}, cases[i]);
      if (!String.join(" ", cases[i]).contains("--model")) {
        args = concat(args, new String[] {"--model", "mlp"});
      }
      CliTest.Result r = run(args);
      assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
      assertTrue(r.err().contains(expected[i]), r.err());
      assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
      assertFalse(Files.exists(out), "nothing left behind for " + String.join(" ", cases[i]));
    }
    CliTest.Result mismatch =
        run("train", "--model-file", arch.toString(), "--data", "csv:" + csv, "--target", "price");
    assertEquals(2, mismatch.code());
    assertTrue(
        mismatch
            .err()
            .contains(
                "the model takes inputs of shape (5,) but houses.csv has samples of shape (3,)"),
        mismatch.err());
  }

  static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
