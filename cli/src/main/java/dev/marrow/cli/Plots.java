package dev.marrow.cli;

import dev.marrow.engine.data.Batch;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.io.AtomicFiles;
import dev.marrow.engine.tensor.Shape;
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
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The run folder's pictures: training curves and the confusion matrix drawn with XChart, and a grid
 * of test digits with their predictions. Every PNG is written to a temp file and renamed.
 */
final class Plots {
  private Plots() {}

  /**
   * One panel per logged quantity (loss, then each metric), train against validation, side by side
   * in rows of three.
   */
  static void curves(Path png, List<EpochStats> epochs) throws IOException {
    List<String> names = new ArrayList<>(List.of("loss"));
    if (!epochs.isEmpty()) {
      names.addAll(epochs.getLast().metricNames());
    }
    List<BufferedImage> panels = new ArrayList<>();
    for (String name : names) {
      List<Double> x = new ArrayList<>(), train = new ArrayList<>();
      List<Double> vx = new ArrayList<>(), val = new ArrayList<>();
      for (EpochStats s : epochs) {
        x.add((double) s.epoch());
        train.add(s.get(name));
        if (s.hasValidation()) {
          vx.add((double) s.epoch());
          val.add(s.get("val_" + name));
        }
      }
      panels.add(BitmapEncoder.getBufferedImage(line(title(name), name, x, train, vx, val)));
    }
    write(png, grid(panels, 3));
  }

  private static String title(String name) {
    return switch (name) {
      case "loss" -> "Loss";
      case "accuracy" -> "Accuracy";
      case "mae" -> "Mean absolute error";
      case "rmse" -> "Root mean squared error";
      case "mse" -> "Mean squared error";
      case "auc" -> "AUC";
      case "binary_accuracy" -> "Binary accuracy";
      default -> name;
    };
  }

  /** Panels of equal size in rows of {@code perRow}. */
  private static BufferedImage grid(List<BufferedImage> panels, int perRow) {
    int w = panels.get(0).getWidth(), h = panels.get(0).getHeight();
    int cols = Math.min(perRow, panels.size()), rows = (panels.size() + cols - 1) / cols;
    BufferedImage all = new BufferedImage(cols * w, rows * h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = all.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, all.getWidth(), all.getHeight());
    for (int i = 0; i < panels.size(); i++) {
      g.drawImage(panels.get(i), (i % cols) * w, (i / cols) * h, null);
    }
    g.dispose();
    return all;
  }

  /**
   * A regression model's test predictions: predicted against true values with the ideal diagonal,
   * and the residuals (predicted − true) against the predictions, side by side; every target column
   * pooled.
   */
  static void regression(Path png, RunModel.Values v, List<String> targetNames) throws IOException {
    int n = v.truth().length;
    List<Double> truth = new ArrayList<>(n), predicted = new ArrayList<>(n);
    List<Double> residual = new ArrayList<>(n);
    double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      truth.add((double) v.truth()[i]);
      predicted.add((double) v.predicted()[i]);
      residual.add((double) v.predicted()[i] - v.truth()[i]);
      lo = Math.min(lo, Math.min(v.truth()[i], v.predicted()[i]));
      hi = Math.max(hi, Math.max(v.truth()[i], v.predicted()[i]));
    }
    String target = targetNames.isEmpty() ? "target" : String.join(", ", targetNames);
    XYChart scatter = scatter("Predicted vs true (test set)", "true " + target, "predicted");
    scatter.addSeries("ideal", List.of(lo, hi), List.of(lo, hi)).setMarker(SeriesMarkers.NONE);
    scatter.addSeries("samples", truth, predicted).setMarker(SeriesMarkers.CIRCLE);
    XYChart residuals = scatter("Residuals (test set)", "predicted " + target, "predicted − true");
    residuals.addSeries("zero", List.of(lo, hi), List.of(0.0, 0.0)).setMarker(SeriesMarkers.NONE);
    residuals.addSeries("samples", predicted, residual).setMarker(SeriesMarkers.CIRCLE);
    residuals
        .getSeriesMap()
        .get("samples")
        .setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    scatter
        .getSeriesMap()
        .get("samples")
        .setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    write(
        png,
        grid(
            List.of(
                BitmapEncoder.getBufferedImage(scatter), BitmapEncoder.getBufferedImage(residuals)),
            2));
  }

  private static XYChart scatter(String title, String x, String y) {
    XYChart chart =
        new XYChartBuilder()
            .width(640)
            .height(520)
            .title(title)
            .xAxisTitle(x)
            .yAxisTitle(y)
            .build();
    chart.getStyler().setLegendVisible(false);
    chart.getStyler().setMarkerSize(4);
    return chart;
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

  /**
   * A labelled heat map: rows are true classes, columns predictions; cells count samples. Classes
   * are named when the model has names.
   */
  static void confusion(Path png, int[][] matrix, List<String> names) throws IOException {
    int k = matrix.length;
    List<Object> labels = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      labels.add(names.size() == k ? names.get(i) : String.valueOf(i));
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
   * A grid of test images (gray or RGB, any size), each captioned with its true class, the
   * prediction and the model's confidence; mistakes are framed and captioned in red. Up to half the
   * cells show mistakes.
   */
  static void samples(Path png, DataSource test, RunModel.Predictions p, List<String> names)
      throws IOException {
    int cols = 10, rows = 8, cell = 84, caption = 18;
    List<Integer> show = new ArrayList<>();
    for (int i = 0; i < test.size() && show.size() < cols * rows / 2; i++) {
      if (p.predicted()[i] != p.truth()[i]) {
        show.add(i);
      }
    }
    for (int i = 0; i < test.size() && show.size() < cols * rows; i++) {
      if (p.predicted()[i] == p.truth()[i]) {
        show.add(i);
      }
    }
    show.sort(Integer::compare);
    int[] indices = show.stream().mapToInt(Integer::intValue).toArray();
    Batch images = test.newBatch(Math.max(1, indices.length));
    test.read(indices, 0, indices.length, images);
    Shape s = test.sampleShape();
    int channels = s.dim(0), h = s.dim(1), w = s.dim(2), size = s.size();
    double scale = (cell - 4.0) / Math.max(h, w);
    BufferedImage img =
        new BufferedImage(cols * cell, rows * (cell + caption), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    float[] px = images.features();
    for (int n = 0; n < indices.length; n++) {
      int i = indices[n], ox = (n % cols) * cell, oy = (n / cols) * (cell + caption);
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          g.setColor(pixel(px, n * size, channels, h * w, y * w + x));
          int x0 = (int) (x * scale), y0 = (int) (y * scale);
          g.fillRect(
              ox + 2 + x0, oy + 2 + y0, (int) ((x + 1) * scale) - x0, (int) ((y + 1) * scale) - y0);
        }
      }
      boolean wrong = p.predicted()[i] != p.truth()[i];
      if (wrong) {
        g.setColor(Color.RED);
        g.setStroke(new BasicStroke(3));
        g.drawRect(ox + 1, oy + 1, cell - 3, cell - 3);
      }
      g.setColor(wrong ? Color.RED : Color.DARK_GRAY);
      g.drawString(
          String.format(
              "t%s p%s %.0f%%",
              name(p.truth()[i], names), name(p.predicted()[i], names), 100 * p.confidence()[i]),
          ox + 4,
          oy + cell + caption - 5);
    }
    g.dispose();
    write(png, img);
  }

  // Gray digits are drawn dark on light, as printed; colour images as they are.
  private static Color pixel(float[] px, int offset, int channels, int plane, int at) {
    if (channels != 3) {
      int v = clamp(255 * (1 - px[offset + at]));
      return new Color(v, v, v);
    }
    return new Color(
        clamp(255 * px[offset + at]),
        clamp(255 * px[offset + plane + at]),
        clamp(255 * px[offset + 2 * plane + at]));
  }

  private static int clamp(float v) {
    return Math.max(0, Math.min(255, Math.round(v)));
  }

  private static String name(int index, List<String> names) {
    String n = index < names.size() ? names.get(index) : String.valueOf(index);
    return n.length() > 6 ? n.substring(0, 6) : n;
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
