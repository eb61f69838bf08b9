package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Shape;
import java.util.ArrayList;
import java.util.List;

/** Keras' {@code model.summary()} table for a built graph. */
final class ModelSummary {
  private ModelSummary() {}

  static String of(Graph g) {
    boolean connected = !g.isChain();
    int width = connected ? 106 : 76;
    StringBuilder b = new StringBuilder();
    String header = String.format("%-38s %-24s %12s", "Layer (type)", "Output Shape", "Param #");
    b.append(connected ? header + "  Connected to" : header).append('\n');
    b.append("=".repeat(width)).append('\n');
    if (connected) {
      for (Node in : g.inputs()) {
        b.append(row(in.label() + " (InputLayer)", in.shape(), 0, "-"));
      }
    }
    for (Node n : g.layerNodes()) {
      Layer l = n.layer();
      String label = l.name() + " (" + l.className() + ")"; // Keras: "dense1 (Dense)"
      long count = l.parameterCount() + sizeOf(l.buffers());
      List<String> from = new ArrayList<>();
      for (Node in : n.inbound()) {
        from.add(in.label());
      }
      b.append(row(label, l.outputShape(), count, connected ? String.join(", ", from) : null));
    }
    b.append("-".repeat(width)).append('\n');
    long trainable = g.parameterCount();
    long fixed = g.layers().stream().mapToLong(l -> sizeOf(l.buffers())).sum();
    long total = trainable + fixed;
    b.append(String.format("Total params: %,d (%s)%n", total, bytes(total * 4)));
    b.append(String.format("Trainable params: %,d (%s)%n", trainable, bytes(trainable * 4)));
    b.append(String.format("Non-trainable params: %,d (%s)%n", fixed, bytes(fixed * 4)));
    return b.toString();
  }

  private static String row(String label, Shape shape, long count, String connectedTo) {
    StringBuilder s = new StringBuilder("(None");
    for (int d : shape.dims()) {
      s.append(", ").append(d);
    }
    String line = String.format("%-38s %-24s %,12d", label, s.append(')'), count);
    return (connectedTo == null ? line : line + "  " + connectedTo) + "\n";
  }

  private static long sizeOf(List<Parameter> ps) {
    return ps.stream().mapToLong(p -> p.value().size()).sum();
  }

  private static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024 * 1024) {
      return String.format("%.2f KB", n / 1024.0);
    }
    return String.format("%.2f MB", n / (1024.0 * 1024));
  }
}
