package dev.marrow.cli;

import com.mxgraph.layout.hierarchical.mxHierarchicalLayout;
import com.mxgraph.model.mxGeometry;
import com.mxgraph.util.mxPoint;
import com.mxgraph.view.mxGraph;
import dev.marrow.engine.io.AtomicFiles;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Layer;
import dev.marrow.engine.nn.MergeLayer;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.tensor.Shape;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.geom.Point2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.imageio.ImageIO;
import javax.swing.SwingConstants;

/**
 * A picture of a model's graph, like Keras' {@code plot_model(model, show_shapes=True)}: one box
 * per node (inputs as {@code InputLayer}) with the layer's name, class and input and output shapes,
 * an arrow along every inbound edge, laid out top to bottom in layers so that a residual shortcut
 * runs beside its main path.
 *
 * <p>Graphviz's {@code dot} lays it out and draws it when it is on the PATH; otherwise JGraphX's
 * hierarchical (Sugiyama) layout places the boxes and Java2D draws them. The system property {@code
 * marrow.plot.layout} ({@code auto}, {@code dot} or {@code java}) overrides the choice.
 */
final class ModelPlot {
  private ModelPlot() {}

  private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 14);
  private static final Font TEXT = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
  private static final int PAD_X = 10, PAD_Y = 6, GAP = 4, MARGIN = 20;
  private static final int RANK_SPACING = 42, REACH = RANK_SPACING / 2;
  private static final Color INK = new Color(0x33, 0x33, 0x33);
  private static final Color EDGE = new Color(0x55, 0x55, 0x55);

  /** Above this many pixels the picture is drawn smaller (a model of hundreds of layers). */
  private static final long MAX_PIXELS = 60_000_000L;

  /** A node's text: title ({@code conv1 (Conv2D)}), its shape lines and a fill by layer kind. */
  record Label(String name, String className, List<String> lines, Color fill) {
    String title() {
      return name + " (" + className + ")";
    }
  }

  /** A node's box where the layout put it, in pixels from the top left of the picture. */
  record Box(Node node, Label label, double x, double y, double width, double height) {
    double bottom() {
      return y + height;
    }
  }

  /** An arrow from box {@code from} to box {@code to} along {@code points} (ends included). */
  record Edge(int from, int to, List<Point2D.Double> points) {}

  /** Boxes in the order of {@link #nodes} and edges, inside a {@code width × height} picture. */
  record Layout(List<Box> boxes, List<Edge> edges, int width, int height) {}

  /**
   * Writes {@code png} atomically and returns how it was laid out, for a notice ("Graphviz dot",
   * "JGraphX (no Graphviz dot on the PATH)"). {@code -Dmarrow.plot.layout} chooses: {@code auto}
   * (dot when it is on the PATH, else JGraphX), {@code dot} (fail without it) or {@code java}.
   */
  static Drawn write(Graph model, Path png) throws IOException {
    String choice = System.getProperty("marrow.plot.layout", "auto").toLowerCase(Locale.ROOT);
    return switch (choice) {
      case "java" -> write(model, png, Optional.empty(), "-Dmarrow.plot.layout=java");
      case "auto" -> write(model, png, findDot(), "no Graphviz dot on the PATH");
      case "dot" -> {
        Path dot =
            findDot()
                .orElseThrow(
                    () ->
                        new UserError(
                            "-Dmarrow.plot.layout=dot, but there is no 'dot' on the PATH:"
                                + " install Graphviz, or leave the property out"));
        writePng(png, runDot(dot, model));
        yield new Drawn("Graphviz dot", false);
      }
      default ->
          throw new UserError("-Dmarrow.plot.layout=" + choice + ": expected auto, dot or java");
    };
  }

  /**
   * Draws with {@code dot} when given, else (or when it fails: the returned notice says why) with
   * JGraphX; {@code reason} says why there is no dot.
   */
  static Drawn write(Graph model, Path png, Optional<Path> dot, String reason) throws IOException {
    String how = "JGraphX (" + reason + ")";
    boolean dotFailed = false;
    if (dot.isPresent()) {
      BufferedImage drawn = null;
      try {
        drawn = runDot(dot.get(), model);
      } catch (IOException e) {
        how = "JGraphX (Graphviz dot failed: " + e.getMessage().replaceAll("\\s+", " ") + ")";
        dotFailed = true;
      }
      if (drawn != null) {
        writePng(png, drawn);
        return new Drawn("Graphviz dot", false);
      }
    }
    writePng(png, render(layout(model)));
    return new Drawn(how, dotFailed);
  }

  /** How a picture was laid out, in words, and whether dot was there but failed. */
  record Drawn(String how, boolean dotFailed) {}

  /** Every node of the model: inputs first, then layers in topological order. */
  static List<Node> nodes(Graph model) {
    List<Node> all = new ArrayList<>(model.inputs());
    all.addAll(model.layerNodes());
    return all;
  }

  static Label label(Node n) {
    String out = "Output shape: " + shape(n.shape());
    if (n.isInput()) {
      return new Label(n.label(), "InputLayer", List.of(out), new Color(0xEE, 0xEE, 0xEE));
    }
    Layer layer = n.layer();
    List<Node> in = n.inbound();
    String input;
    if (in.size() == 1) {
      input = shape(in.get(0).shape());
    } else if (in.stream().allMatch(i -> i.shape().equals(in.get(0).shape()))) {
      input = in.size() + " × " + shape(in.get(0).shape());
    } else {
      List<String> parts = new ArrayList<>();
      for (Node i : in) {
        parts.add(shape(i.shape()));
      }
      input = "[" + String.join(", ", parts) + "]";
    }
    String name = layer.name() != null ? layer.name() : n.label();
    return new Label(name, layer.className(), List.of("Input shape: " + input, out), fill(layer));
  }

  // Colours by kind, as a reader scans a ResNet: convolutions and pooling blue, dense green,
  // merges orange, normalisation and activations yellow, reshaping grey.
  private static Color fill(Layer layer) {
    String c = layer.className();
    if (layer instanceof MergeLayer) {
      return new Color(0xFC, 0xE0, 0xC4);
    }
    if (c.startsWith("Conv") || c.contains("Pooling")) {
      return new Color(0xCF, 0xE2, 0xF3);
    }
    if (c.equals("Dense")) {
      return new Color(0xD5, 0xEB, 0xCF);
    }
    if (c.contains("Normalization") || c.contains("Activation") || c.equals("Dropout")) {
      return new Color(0xFF, 0xF2, 0xCC);
    }
    return new Color(0xF3, 0xF3, 0xF3);
  }

  /** Keras' notation with the batch axis: {@code (None, 32, 26, 26)}. */
  static String shape(Shape s) {
    StringBuilder b = new StringBuilder("(None");
    for (int d : s.dims()) {
      b.append(", ").append(d);
    }
    return b.append(')').toString();
  }

  // ---------------------------------------------------------------- Java layout (JGraphX)

  /**
   * Sizes each box to its text and lets JGraphX's hierarchical layout place the boxes in ranks from
   * the inputs down, ordering each rank to reduce crossings and routing long edges (a residual
   * shortcut) around the boxes between.
   */
  static Layout layout(Graph model) {
    List<Node> nodes = nodes(model);
    Map<Node, Integer> index = new IdentityHashMap<>();
    List<Label> labels = new ArrayList<>();
    mxGraph g = new mxGraph();
    Object parent = g.getDefaultParent();
    List<Object> vertices = new ArrayList<>();
    List<Object> edgeCells = new ArrayList<>();
    List<int[]> edgeEnds = new ArrayList<>();
    Graphics2D measure = measuring();
    g.getModel().beginUpdate();
    try {
      for (Node n : nodes) {
        index.put(n, vertices.size());
        Label l = label(n);
        labels.add(l);
        double[] size = size(measure, l);
        vertices.add(g.insertVertex(parent, null, null, 0, 0, size[0], size[1]));
      }
      for (Node n : nodes) {
        for (Node in : n.inbound()) {
          int from = index.get(in), to = index.get(n);
          edgeCells.add(g.insertEdge(parent, null, null, vertices.get(from), vertices.get(to)));
          edgeEnds.add(new int[] {from, to});
        }
      }
      mxHierarchicalLayout layout = new mxHierarchicalLayout(g, SwingConstants.NORTH);
      layout.setInterRankCellSpacing(RANK_SPACING);
      layout.setIntraCellSpacing(28);
      layout.setInterHierarchySpacing(40);
      layout.setParallelEdgeSpacing(8);
      layout.setFineTuning(true);
      layout.execute(parent);
    } finally {
      g.getModel().endUpdate();
      measure.dispose();
    }
    List<Box> boxes = new ArrayList<>();
    double minX = Double.MAX_VALUE, minY = Double.MAX_VALUE;
    double maxX = -Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
    for (int i = 0; i < nodes.size(); i++) {
      mxGeometry geo = g.getCellGeometry(vertices.get(i));
      boxes.add(
          new Box(
              nodes.get(i),
              labels.get(i),
              geo.getX(),
              geo.getY(),
              geo.getWidth(),
              geo.getHeight()));
    }
    List<Edge> edges = new ArrayList<>();
    for (int e = 0; e < edgeCells.size(); e++) {
      Box from = boxes.get(edgeEnds.get(e)[0]), to = boxes.get(edgeEnds.get(e)[1]);
      List<Point2D.Double> points = new ArrayList<>();
      List<mxPoint> bends = g.getCellGeometry(edgeCells.get(e)).getPoints();
      // The layout gives the bends of an edge; its ends are the source's bottom edge and the
      // target's top edge, straight above or below the nearest bend.
      double startX =
          bends == null || bends.isEmpty() ? to.x() + to.width() / 2 : bends.get(0).getX();
      double endX = bends == null || bends.isEmpty() ? startX : bends.get(bends.size() - 1).getX();
      points.add(new Point2D.Double(clamp(startX, from), from.bottom()));
      if (bends != null) {
        for (mxPoint p : bends) {
          points.add(new Point2D.Double(p.getX(), p.getY()));
        }
      }
      points.add(new Point2D.Double(clamp(endX, to), to.y()));
      edges.add(new Edge(edgeEnds.get(e)[0], edgeEnds.get(e)[1], points));
    }
    for (Box b : boxes) {
      minX = Math.min(minX, b.x());
      minY = Math.min(minY, b.y());
      maxX = Math.max(maxX, b.x() + b.width());
      maxY = Math.max(maxY, b.bottom());
    }
    for (Edge e : edges) {
      for (Point2D.Double p : e.points()) {
        minX = Math.min(minX, p.x);
        maxX = Math.max(maxX, p.x);
      }
    }
    // Shift everything so that the picture starts at the margin.
    double dx = MARGIN - minX, dy = MARGIN - minY;
    List<Box> shifted = new ArrayList<>();
    for (Box b : boxes) {
      shifted.add(new Box(b.node(), b.label(), b.x() + dx, b.y() + dy, b.width(), b.height()));
    }
    List<Edge> moved = new ArrayList<>();
    for (Edge e : edges) {
      List<Point2D.Double> ps = new ArrayList<>();
      for (Point2D.Double p : e.points()) {
        ps.add(new Point2D.Double(p.x + dx, p.y + dy));
      }
      moved.add(new Edge(e.from(), e.to(), ps));
    }
    return new Layout(
        shifted,
        moved,
        (int) Math.ceil(maxX - minX + 2 * MARGIN),
        (int) Math.ceil(maxY - minY + 2 * MARGIN));
  }

  private static double clamp(double x, Box b) {
    return Math.max(b.x() + 8, Math.min(b.x() + b.width() - 8, x));
  }

  private static Graphics2D measuring() {
    Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
    hints(g);
    return g;
  }

  private static void hints(Graphics2D g) {
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
  }

  /** Width and height of a box holding the label's text. */
  private static double[] size(Graphics2D g, Label l) {
    FontMetrics title = g.getFontMetrics(TITLE), text = g.getFontMetrics(TEXT);
    double w = title.getStringBounds(l.title(), g).getWidth();
    for (String line : l.lines()) {
      w = Math.max(w, text.getStringBounds(line, g).getWidth());
    }
    double h = title.getHeight() + GAP + l.lines().size() * text.getHeight();
    return new double[] {Math.ceil(w + 2 * PAD_X), Math.ceil(h + 2 * PAD_Y)};
  }

  /** Draws a layout: arrows first, then the boxes over them. */
  static BufferedImage render(Layout layout) {
    double scale = 1;
    long pixels = (long) layout.width() * layout.height();
    if (pixels > MAX_PIXELS) {
      scale = Math.sqrt((double) MAX_PIXELS / pixels);
    }
    int w = Math.max(1, (int) Math.ceil(layout.width() * scale));
    int h = Math.max(1, (int) Math.ceil(layout.height() * scale));
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      hints(g);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, w, h);
      g.scale(scale, scale);
      g.setColor(EDGE);
      g.setStroke(new BasicStroke(1.4f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
      for (Edge e : layout.edges()) {
        arrow(g, e.points());
      }
      FontMetrics title = g.getFontMetrics(TITLE), text = g.getFontMetrics(TEXT);
      for (Box b : layout.boxes()) {
        RoundRectangle2D.Double r =
            new RoundRectangle2D.Double(b.x(), b.y(), b.width(), b.height(), 10, 10);
        g.setColor(b.label().fill());
        g.fill(r);
        g.setColor(INK);
        g.setStroke(new BasicStroke(1.2f));
        g.draw(r);
        float x = (float) (b.x() + PAD_X);
        float y = (float) (b.y() + PAD_Y);
        g.setFont(TITLE);
        g.drawString(b.label().name(), x, y + title.getAscent());
        float nameWidth = (float) title.getStringBounds(b.label().name(), g).getWidth();
        g.setFont(TITLE.deriveFont(Font.PLAIN));
        g.drawString(" (" + b.label().className() + ")", x + nameWidth, y + title.getAscent());
        y += title.getHeight() + GAP / 2f;
        g.setColor(new Color(0, 0, 0, 60));
        g.draw(new java.awt.geom.Line2D.Double(b.x(), y, b.x() + b.width(), y));
        y += GAP / 2f;
        g.setColor(INK);
        g.setFont(TEXT);
        for (String line : b.label().lines()) {
          g.drawString(line, x, y + text.getAscent());
          y += text.getHeight();
        }
      }
    } finally {
      g.dispose();
    }
    return img;
  }

  /**
   * An edge as the layout routed it, drawn smooth: its vertical runs (down through a rank, or past
   * the boxes of ranks it skips) stay straight, and each jog between two runs becomes an S-curve
   * across the whole gap between ranks, as Graphviz's splines look. A filled head ends it.
   */
  private static void arrow(Graphics2D g, List<Point2D.Double> points) {
    double head = 9, half = 4.5;
    Point2D.Double end = points.get(points.size() - 1);
    List<Point2D.Double> ps = new ArrayList<>(points);
    // The curve ends where the head begins (heads point straight down: every route ends with a
    // vertical tangent), so that the line's round cap does not blunt the tip.
    ps.set(ps.size() - 1, new Point2D.Double(end.x, end.y - head));
    List<double[]> runs = new ArrayList<>(); // {x, top, bottom}
    double[] run = {ps.get(0).x, ps.get(0).y, ps.get(0).y};
    for (Point2D.Double p : ps.subList(1, ps.size())) {
      if (Math.abs(p.x - run[0]) < 0.5) {
        run[2] = Math.max(run[2], p.y);
      } else {
        runs.add(run);
        run = new double[] {p.x, p.y, p.y};
      }
    }
    runs.add(run);
    int last = runs.size() - 1;
    Path2D.Double path = new Path2D.Double();
    path.moveTo(runs.get(0)[0], runs.get(0)[1]);
    for (int i = 0; i <= last; i++) {
      double[] r = runs.get(i);
      double bottom = r[2];
      if (i < last) {
        double[] next = runs.get(i + 1);
        // A curve may reach back into the runs it joins by up to half the gap between ranks.
        double up = Math.min(REACH, (r[2] - r[1]) * (i == 0 ? 1 : 0.5));
        double down = Math.min(REACH, (next[2] - next[1]) * (i + 1 == last ? 1 : 0.5));
        bottom = r[2] - Math.max(0, up);
        path.lineTo(r[0], bottom);
        double toY = next[1] + Math.max(0, down);
        double bend = Math.max(toY - bottom, 12) / 2;
        path.curveTo(r[0], bottom + bend, next[0], toY - bend, next[0], toY);
      } else {
        path.lineTo(r[0], bottom);
      }
    }
    g.draw(path);
    Path2D.Double tip = new Path2D.Double();
    tip.moveTo(end.x, end.y);
    tip.lineTo(end.x - half, end.y - head);
    tip.lineTo(end.x + half, end.y - head);
    tip.closePath();
    g.fill(tip);
  }

  // ---------------------------------------------------------------- Graphviz

  /** The model as Graphviz DOT: HTML-like labels with the same text and colours. */
  static String dot(Graph model) {
    List<Node> nodes = nodes(model);
    Map<Node, Integer> index = new IdentityHashMap<>();
    StringBuilder b = new StringBuilder("digraph model {\n");
    b.append("  graph [rankdir=TB, ranksep=0.4, nodesep=0.3, dpi=96, pad=0.25, bgcolor=white];\n");
    b.append("  node [shape=none, margin=0, fontname=\"DejaVu Sans,Helvetica,Arial,sans-serif\",")
        .append(" fontsize=11];\n");
    b.append("  edge [color=\"#555555\", arrowsize=0.8, penwidth=1.3];\n");
    for (Node n : nodes) {
      int i = index.size();
      index.put(n, i);
      Label l = label(n);
      b.append("  n")
          .append(i)
          .append(" [label=<<table border=\"1\" cellborder=\"0\" cellspacing=\"0\"")
          .append(" cellpadding=\"4\" style=\"rounded\" color=\"#333333\" bgcolor=\"")
          .append(hex(l.fill()))
          .append("\"><tr><td><b>")
          .append(html(l.name()))
          .append("</b> (")
          .append(html(l.className()))
          .append(")</td></tr><hr/>");
      for (String line : l.lines()) {
        b.append("<tr><td align=\"left\">").append(html(line)).append("</td></tr>");
      }
      b.append("</table>>];\n");
    }
    for (Node n : nodes) {
      for (Node in : n.inbound()) {
        b.append("  n").append(index.get(in)).append(" -> n").append(index.get(n)).append(";\n");
      }
    }
    return b.append("}\n").toString();
  }

  private static String hex(Color c) {
    return String.format("#%02X%02X%02X", c.getRed(), c.getGreen(), c.getBlue());
  }

  private static String html(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  /** The {@code dot} executable on the PATH, if any. */
  static Optional<Path> findDot() {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, "dot");
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** The model drawn by {@code dot -Tpng}; its error output names the problem when it fails. */
  static BufferedImage runDot(Path dot, Graph model) throws IOException {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(runDot(dot, dot(model))));
    if (img == null) {
      throw new IOException(dot + " -Tpng wrote nothing ImageIO reads as a PNG");
    }
    return img;
  }

  private static byte[] runDot(Path dot, String text) throws IOException {
    Process p = new ProcessBuilder(dot.toString(), "-Tpng").start();
    // Both outputs are drained at once, so that dot never blocks on a full pipe.
    try (ExecutorService io = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<byte[]> out = io.submit(() -> p.getInputStream().readAllBytes());
      Future<byte[]> err = io.submit(() -> p.getErrorStream().readAllBytes());
      try (OutputStream in = p.getOutputStream()) {
        in.write(text.getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        // dot exited before reading everything: its exit status and error output say why.
      }
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(dot + " -Tpng took more than 60 s");
      }
      byte[] png = out.get(10, TimeUnit.SECONDS);
      String message = new String(err.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8).strip();
      if (p.exitValue() != 0 || png.length == 0) {
        throw new IOException(
            dot
                + " -Tpng exited with "
                + p.exitValue()
                + (message.isEmpty() ? "" : ": " + message));
      }
      return png;
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while " + dot + " ran", e);
    } catch (ExecutionException | TimeoutException e) {
      p.destroyForcibly();
      throw new IOException(dot + " -Tpng: " + e.getMessage(), e);
    }
  }

  /** A file error in words: "/a/b: not a folder" rather than an exception's class name. */
  static String why(IOException e) {
    if (e instanceof java.nio.file.FileSystemException f) {
      String reason =
          switch (e) {
            case java.nio.file.NoSuchFileException _ -> "no such file or folder";
            case java.nio.file.FileAlreadyExistsException _ -> "exists and is not a folder";
            case java.nio.file.AccessDeniedException _ -> "permission denied";
            case java.nio.file.NotDirectoryException _ -> "not a folder";
            default -> f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
          };
      return f.getFile() == null ? reason : f.getFile() + ": " + reason;
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  private static void writePng(Path png, BufferedImage img) throws IOException {
    AtomicFiles.write(
        png,
        out -> {
          if (!ImageIO.write(img, "png", out)) {
            throw new IOException("no PNG writer available");
          }
        });
  }
}
