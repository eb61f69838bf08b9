package dev.marrow.cli;

import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.AtomicFiles;
import dev.marrow.engine.train.EpochStats;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The run folder's pictures: training curves and the confusion matrix drawn with XChart, and a grid
 * of test digits with their predictions. Every PNG is written to a temp file and renamed.
 */
final class Plots {
  private Plots() {}

  /** Loss and accuracy per epoch, train against validation, side by side. */
  static void curves(Path png, List<EpochStats> epochs) throws IOException {
    List<Double> x = new ArrayList<>(), loss = new ArrayList<>(), acc = new ArrayList<>();
    List<Double> vx = new ArrayList<>(), vloss = new ArrayList<>(), vacc = new ArrayList<>();
    for (EpochStats s : epochs) {
      x.add((double) s.epoch());
      loss.add(s.loss());
      acc.add(s.accuracy());
      if (s.hasValidation()) {
        vx.add((double) s.epoch());
        vloss.add(s.valLoss());
        vacc.add(s.valAccuracy());
      }
    }
    XYChart left = line("Loss", "loss", x, loss, vx, vloss);
    XYChart right = line("Accuracy", "accuracy", x, acc, vx, vacc);
    BufferedImage a = BitmapEncoder.getBufferedImage(left);
    BufferedImage b = BitmapEncoder.getBufferedImage(right);
    BufferedImage both =
        new BufferedImage(
            a.getWidth() + b.getWidth(),
            Math.max(a.getHeight(), b.getHeight()),
            BufferedImage.TYPE_INT_RGB);
    Graphics2D g = both.createGraphics();
    g.drawImage(a, 0, 0, null);
    g.drawImage(b, a.getWidth(), 0, null);
    g.dispose();
    write(png, both);
  }

  private static XYChart line(
      String title,
      String yLabel,
      List<Double> x,
      List<Double> train,
      List<Double> vx,
      List<Double> val) {
    XYChart chart =
        new XYChartBuilder()
            .width(640)
            .height(440)
            .title(title)
            .xAxisTitle("epoch")
            .yAxisTitle(yLabel)
            .build();
    chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
    chart.getStyler().setXAxisDecimalPattern("0");
    chart.addSeries("train", x, train).setMarker(SeriesMarkers.CIRCLE);
    if (!vx.isEmpty()) {
      chart.addSeries("validation", vx, val).setMarker(SeriesMarkers.DIAMOND);
    }
    return chart;
  }

  /** A labelled heat map: rows are true classes, columns predictions; cells count images. */
  static void confusion(Path png, int[][] matrix) throws IOException {
    int k = matrix.length;
    List<Integer> labels = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      labels.add(i);
    }
    List<Number[]> cells = new ArrayList<>();
    for (int t = 0; t < k; t++) {
      for (int p = 0; p < k; p++) {
        cells.add(new Number[] {p, t, matrix[t][p]});
      }
    }
    HeatMapChart chart =
        new HeatMapChartBuilder()
            .width(760)
            .height(660)
            .title("Confusion matrix (test set)")
            .xAxisTitle("predicted")
            .yAxisTitle("true")
            .build();
    chart.getStyler().setShowValue(true);
    chart.getStyler().setValueFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
    // Off-diagonal counts are tiny next to the diagonal: a ramp that leaves white only for 0
    // keeps every mistake visible.
    chart
        .getStyler()
        .setRangeColors(
            new Color[] {
              Color.WHITE, new Color(255, 200, 150), new Color(240, 120, 60), new Color(160, 30, 20)
            });
    chart.getStyler().setLegendVisible(false);
    chart.addSeries("counts", labels, labels, cells);
    write(png, BitmapEncoder.getBufferedImage(chart));
  }

  /**
   * A grid of test digits, each captioned with its true label, the prediction and the model's
   * confidence; mistakes are framed and captioned in red. Up to half the cells show mistakes.
   */
  static void samples(Path png, Dataset test, int[] predicted, float[] confidence)
      throws IOException {
    int cols = 10, rows = 8, cell = 84, caption = 18;
    List<Integer> show = new ArrayList<>();
    for (int i = 0; i < test.size() && show.size() < cols * rows / 2; i++) {
      if (predicted[i] != test.label(i)) {
        show.add(i);
      }
    }
    for (int i = 0; i < test.size() && show.size() < cols * rows; i++) {
      if (predicted[i] == test.label(i)) {
        show.add(i);
      }
    }
    show.sort(Integer::compare);
    BufferedImage img =
        new BufferedImage(cols * cell, rows * (cell + caption), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    float[] px = test.features().array();
    int side = (int) Math.round(Math.sqrt(test.sampleShape().size()));
    for (int n = 0; n < show.size(); n++) {
      int i = show.get(n), ox = (n % cols) * cell, oy = (n / cols) * (cell + caption);
      int scale = (cell - 4) / side;
      for (int y = 0; y < side; y++) {
        for (int x = 0; x < side; x++) {
          int v = Math.round(255 * (1 - px[i * side * side + y * side + x]));
          g.setColor(new Color(v, v, v));
          g.fillRect(ox + 2 + x * scale, oy + 2 + y * scale, scale, scale);
        }
      }
      boolean wrong = predicted[i] != test.label(i);
      if (wrong) {
        g.setColor(Color.RED);
        g.setStroke(new BasicStroke(3));
        g.drawRect(ox + 1, oy + 1, cell - 3, cell - 3);
      }
      g.setColor(wrong ? Color.RED : Color.DARK_GRAY);
      g.drawString(
          String.format("t%d p%d %.0f%%", test.label(i), predicted[i], 100 * confidence[i]),
          ox + 4,
          oy + cell + caption - 5);
    }
    g.dispose();
    write(png, img);
  }

  private static void write(Path png, BufferedImage img) throws IOException {
    AtomicFiles.write(
        png,
        out -> {
          if (!ImageIO.write(img, "png", out)) {
            throw new IOException("no PNG writer available");
          }
        });
  }
}
