package dev.marrow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.marrow.engine.nn.ActivationLayer;
import dev.marrow.engine.nn.Add;
import dev.marrow.engine.nn.Average;
import dev.marrow.engine.nn.BatchNormalization;
import dev.marrow.engine.nn.Concatenate;
import dev.marrow.engine.nn.Conv2D;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Flatten;
import dev.marrow.engine.nn.GlobalAveragePooling2D;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Multiply;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.nn.Padding;
import dev.marrow.models.zoo.ModelSpec;
import dev.marrow.models.zoo.ModelZoo;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model picture: JGraphX's layout (the default wherever Graphviz is missing, as in CI) checked
 * box by box, every zoo model drawn, and the Graphviz path where {@code dot} is installed. The
 * pictures are also left in {@code target/model-plots} for a person to look at.
 */
class ModelPlotTest {
  @TempDir Path tmp;

  static final Path KEEP = Path.of("target", "model-plots");

  /** GraphTest's residual block: a shortcut beside the main path, then Multiply/Average/Concat. */
  static Graph residualBlock() {
    Node x = Node.input(2, 6, 6);
    Node stem =
        Conv2D.builder(4, 3)
            .padding(Padding.SAME)
            .activation(dev.marrow.engine.backend.Activation.RELU)
            .build()
            .apply(x);
    Node main = Conv2D.builder(4, 3).strides(2, 2).padding(Padding.SAME).build().apply(stem);
    main = new BatchNormalization(0.9, 1e-3).apply(main);
    main = new ActivationLayer("relu").apply(main);
    Node shortcut = Conv2D.builder(4, 1).strides(2, 2).build().apply(stem);
    Node sum = new Add().apply(main, shortcut);
    Node gate = new ActivationLayer("sigmoid").apply(Conv2D.builder(4, 1).build().apply(sum));
    Node gated = new Multiply().apply(sum, gate);
    Node mean = new Average().apply(sum, gated);
    Node joined = new Concatenate().apply(sum, mean);
    Node out = new Dense(3).apply(new Flatten().apply(joined));
    return new Graph(List.of(x), List.of(out)).build(1);
  }

  /** A ResNet for 28×28 with {@code blocks} basic blocks per stage: 45 nodes for 2. */
  static Graph resnet(int blocks) {
    Node x = Node.input(1, 28, 28);
    Node h = relu(bn(conv(32, 3, 1).apply(x)));
    int[] widths = {32, 64, 128};
    for (int stage = 0; stage < widths.length; stage++) {
      for (int b = 0; b < blocks; b++) {
        int stride = stage > 0 && b == 0 ? 2 : 1;
        Node main = relu(bn(conv(widths[stage], 3, stride).apply(h)));
        main = bn(conv(widths[stage], 3, 1).apply(main));
        Node shortcut = h;
        if (stride != 1 || h.shape().dim(0) != widths[stage]) {
          shortcut = bn(conv(widths[stage], 1, stride).apply(h));
        }
        h = relu(new Add().apply(main, shortcut));
      }
    }
    Node pooled = new GlobalAveragePooling2D().apply(h);
    return new Graph(List.of(x), List.of(new Dense(10).apply(pooled))).build(1);
  }

  /** Two inputs of different widths joined: Keras' multi-input functional model. */
  static Graph twoInputs() {
    Node image = Node.input(dev.marrow.engine.tensor.Shape.of(6), "image");
    Node meta = Node.input(dev.marrow.engine.tensor.Shape.of(3), "meta");
    Node h = new Dense(4, "relu").apply(image);
    Node joined = new Concatenate().apply(h, meta);
    return new Graph(List.of(image, meta), List.of(new Dense(2).apply(joined))).build(1);
  }

  private static Conv2D conv(int filters, int kernel, int stride) {
    return Conv2D.builder(filters, kernel)
        .strides(stride, stride)
        .padding(Padding.SAME)
        .useBias(false)
        .build();
  }

  private static Node bn(Node n) {
    return new BatchNormalization().apply(n);
  }

  private static Node relu(Node n) {
    return new ActivationLayer("relu").apply(n);
  }

  @Test
  void everyBoxIsBelowTheBoxesItReadsAndHoldsItsText() throws Exception {
    for (Graph g : List.of(residualBlock(), resnet(2), twoInputs())) {
      ModelPlot.Layout layout = ModelPlot.layout(g);
      List<Node> nodes = ModelPlot.nodes(g);
      assertEquals(nodes.size(), layout.boxes().size());
      Map<Node, ModelPlot.Box> boxOf = new java.util.IdentityHashMap<>();
      for (ModelPlot.Box b : layout.boxes()) {
        boxOf.put(b.node(), b);
      }
      int edges = 0;
      for (Node n : nodes) {
        ModelPlot.Box box = boxOf.get(n);
        for (Node in : n.inbound()) {
          ModelPlot.Box above = boxOf.get(in);
          assertTrue(
              box.y() >= above.bottom() + 10,
              n.label()
                  + " at y="
                  + box.y()
                  + " is not below "
                  + in.label()
                  + " (bottom "
                  + above.bottom()
                  + ")");
          edges++;
        }
        // Inside the picture, and wide enough for a shape line in 13 px text.
        assertTrue(box.x() >= 0 && box.x() + box.width() <= layout.width(), n.label());
        assertTrue(box.bottom() <= layout.height(), n.label());
        assertTrue(box.width() >= 7 * ModelPlot.label(n).lines().get(0).length(), n.label());
      }
      assertEquals(edges, layout.edges().size());
      // No two boxes overlap.
      for (ModelPlot.Box a : layout.boxes()) {
        for (ModelPlot.Box b : layout.boxes()) {
          if (a != b) {
            boolean apart =
                a.x() + a.width() <= b.x()
                    || b.x() + b.width() <= a.x()
                    || a.bottom() <= b.y()
                    || b.bottom() <= a.y();
            assertTrue(apart, a.node().label() + " overlaps " + b.node().label());
          }
        }
      }
      // Every arrow starts on its source box's bottom edge and ends on its target's top edge.
      for (ModelPlot.Edge e : layout.edges()) {
        ModelPlot.Box from = layout.boxes().get(e.from()), to = layout.boxes().get(e.to());
        assertEquals(from.bottom(), e.points().get(0).y, 1e-9);
        assertEquals(to.y(), e.points().get(e.points().size() - 1).y, 1e-9);
      }
    }
  }

  @Test
  void theShortcutRunsBesideTheMainPath() {
    Graph g = residualBlock();
    ModelPlot.Layout layout = ModelPlot.layout(g);
    ModelPlot.Box shortcut = null, mainConv = null;
    for (ModelPlot.Box b : layout.boxes()) {
      String name = b.label().name();
      if (name.equals("conv3")) {
        shortcut = b; // the 1×1 projection, read by add1 beside the main path's relu
      } else if (name.equals("conv2")) {
        mainConv = b;
      }
    }
    assertNotNull(shortcut);
    assertNotNull(mainConv);
    assertTrue(
        shortcut.x() >= mainConv.x() + mainConv.width()
            || mainConv.x() >= shortcut.x() + shortcut.width(),
        "the shortcut conv shares a rank with the main conv, side by side");
  }

  @Test
  void labelsFollowKerasPlotModel() {
    Graph g = residualBlock();
    ModelPlot.Label input = ModelPlot.label(g.inputs().get(0));
    assertEquals("InputLayer", input.className());
    assertEquals(List.of("Output shape: (None, 2, 6, 6)"), input.lines());
    Node add =
        g.layerNodes().stream()
            .filter(n -> n.layer().className().equals("Add"))
            .findFirst()
            .orElseThrow();
    assertEquals("add1 (Add)", ModelPlot.label(add).title());
    assertEquals(
        List.of("Input shape: 2 × (None, 4, 3, 3)", "Output shape: (None, 4, 3, 3)"),
        ModelPlot.label(add).lines());
    Node joined = twoInputs().layerNodes().get(1);
    assertEquals("concatenate1 (Concatenate)", ModelPlot.label(joined).title());
    assertEquals("Input shape: [(None, 4), (None, 3)]", ModelPlot.label(joined).lines().get(0));
    Node concat =
        g.layerNodes().stream()
            .filter(n -> n.layer().className().equals("Concatenate"))
            .findFirst()
            .orElseThrow();
    assertEquals("Output shape: (None, 8, 3, 3)", ModelPlot.label(concat).lines().get(1));
  }

  @Test
  void everyZooModelAndTheResidualGraphsDrawAsPngs() throws Exception {
    Files.createDirectories(KEEP);
    for (ModelSpec m : ModelZoo.all().values()) {
      Graph g = m.build(m.seed());
      check(g, KEEP.resolve(m.name() + ".png"));
    }
    check(residualBlock(), KEEP.resolve("residual-block.png"));
    check(resnet(2), KEEP.resolve("resnet-2x3.png"));
    check(twoInputs(), KEEP.resolve("two-inputs.png"));
  }

  private static void check(Graph g, Path png) throws Exception {
    ModelPlot.Layout layout = ModelPlot.layout(g);
    BufferedImage img = ModelPlot.render(layout);
    javax.imageio.ImageIO.write(img, "png", png.toFile());
    BufferedImage back = ImageIO.read(png.toFile());
    assertNotNull(back, png.toString());
    int nodes = ModelPlot.nodes(g).size();
    assertTrue(
        back.getWidth() >= 200 && back.getWidth() <= 2000, png + " width " + back.getWidth());
    // Each rank is a box (about 60 px) plus the gap between ranks: tall, never absurd.
    assertTrue(back.getHeight() >= 60 * Math.min(nodes, 4), png + " height " + back.getHeight());
    assertTrue(back.getHeight() <= 120 * nodes + 100, png + " height " + back.getHeight());
  }

  @Test
  void withoutGraphvizTheJavaLayoutWritesThePicture() throws Exception {
    Path png = tmp.resolve("residual.png");
    ModelPlot.Drawn drawn = ModelPlot.write(residualBlock(), png, Optional.empty(), "no dot here");
    assertEquals(new ModelPlot.Drawn("JGraphX (no dot here)", false), drawn);
    assertNotNull(ImageIO.read(png.toFile()));
    try (var files = Files.list(tmp)) {
      assertEquals(List.of(png), files.toList(), "no temp file is left beside it");
    }
  }

  @Test
  void aFailingDotFallsBackToJavaAndSaysWhy() throws Exception {
    Path broken = tmp.resolve("dot");
    Files.writeString(
        broken, "#!/bin/sh\necho 'Error: <stdin>: syntax error in line 3' >&2\nexit 1\n");
    Path garbage = tmp.resolve("dot-garbage");
    Files.writeString(garbage, "#!/bin/sh\ncat >/dev/null\necho 'not a png'\n");
    for (Path fake : List.of(broken, garbage)) {
      assumeTrue(fake.toFile().setExecutable(true), "cannot make a script executable here");
      Path png = tmp.resolve("out").resolve(fake.getFileName() + ".png");
      ModelPlot.Drawn drawn = ModelPlot.write(residualBlock(), png, Optional.of(fake), "unused");
      String how = drawn.how();
      assertTrue(drawn.dotFailed(), how);
      assertTrue(how.startsWith("JGraphX (Graphviz dot failed: " + fake), how);
      assertNotNull(ImageIO.read(png.toFile()), how);
    }
    String how =
        ModelPlot.write(residualBlock(), tmp.resolve("b.png"), Optional.of(broken), "unused").how();
    assertTrue(how.contains("exited with 1: Error: <stdin>: syntax error in line 3"), how);
  }

  @Test
  void anUnknownLayoutChoiceIsAUserError() {
    String before = System.getProperty("marrow.plot.layout");
    System.setProperty("marrow.plot.layout", "neato");
    try {
      UserError e =
          assertThrows(
              UserError.class, () -> ModelPlot.write(residualBlock(), tmp.resolve("x.png")));
      assertTrue(e.getMessage().contains("expected auto, dot or java"), e.getMessage());
    } finally {
      if (before == null) {
        System.clearProperty("marrow.plot.layout");
      } else {
        System.setProperty("marrow.plot.layout", before);
      }
    }
  }

  @Test
  void dotTextHasEveryNodeAndEdgeAndEscapesHtml() {
    Graph g = residualBlock();
    String dot = ModelPlot.dot(g);
    assertTrue(dot.startsWith("digraph model {"), dot);
    long edges = ModelPlot.nodes(g).stream().mapToLong(n -> n.inbound().size()).sum();
    assertEquals(edges, dot.lines().filter(l -> l.contains(" -> ")).count());
    assertTrue(dot.contains("<b>add1</b> (Add)"), dot);
    assertTrue(dot.contains("2 × (None, 4, 3, 3)"), dot);
    assertFalse(dot.contains("<(None"), "shapes are text, not tags");
  }

  @Test
  void withGraphvizDotDrawsThePicture() throws Exception {
    Optional<Path> dot = ModelPlot.findDot();
    assumeTrue(dot.isPresent(), "Graphviz dot is not installed");
    Path png = tmp.resolve("resnet.png");
    assertEquals(
        new ModelPlot.Drawn("Graphviz dot", false), ModelPlot.write(resnet(2), png, dot, "unused"));
    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img);
    assertTrue(
        img.getWidth() >= 200 && img.getHeight() >= 1000, img.getWidth() + "×" + img.getHeight());
    Files.copy(
        png,
        Files.createDirectories(KEEP).resolve("resnet-2x3-dot.png"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
