package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.tensor.Tensor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Layers a plan runs as one step. A {@link BatchNormalization} whose only reader is a ReLU {@link
 * ActivationLayer} (every conv → BN → ReLU of vgg and resnet) writes the ReLU's output in its
 * normalising pass and takes the ReLU's output gradient in its backward pass, where the CPU
 * recomputes the ReLU's test from the saved statistics: one read and one write of the activation
 * fewer each way, and no buffer for the batch norm's own output. The ReLU's node keeps its place in
 * the plan with a step that runs nothing and hands on the batch norm's buffers. The model, its
 * layers, parameters and files are unchanged; {@code -Dmarrow.fuse=false} turns fusion off (for
 * measuring it).
 */
public final class Fusion {
  private static final boolean ENABLED =
      Boolean.parseBoolean(System.getProperty("marrow.fuse", "true"));

  private Fusion() {}

  /**
   * The ReLU node each batch-norm node of {@code nodes} (topological order) is fused with: its only
   * reader, reading nothing else, when the batch norm's output is not a model output.
   */
  public static Map<Node, Node> batchNormRelu(List<Node> nodes, List<Node> outputs) {
    Map<Node, Node> fused = new IdentityHashMap<>();
    if (!ENABLED) {
      return fused;
    }
    Map<Node, Integer> readers = new IdentityHashMap<>();
    Map<Node, Node> reader = new IdentityHashMap<>();
    for (Node node : nodes) {
      for (Node in : node.inbound()) {
        readers.merge(in, 1, Integer::sum);
        reader.put(in, node);
      }
    }
    for (Node node : nodes) {
      Node next = reader.get(node);
      if (node.layer() instanceof BatchNormalization
          && readers.getOrDefault(node, 0) == 1
          && !outputs.contains(node)
          && next.inbound().size() == 1
          && next.layer() instanceof ActivationLayer a
          && a.activation() == Activation.RELU) {
        fused.put(node, next);
      }
    }
    return fused;
  }

  /** The step of a batch-norm node fused with the ReLU after it. */
  public static LayerStep batchNormReluStep(
      Node batchNorm, CompileContext ctx, List<Tensor> xs, List<Tensor> dxs) {
    return ((BatchNormalization) batchNorm.layer()).compile(ctx, xs.get(0), dxs.get(0), true);
  }

  /**
   * What the fused batch norm's backward reads: its input, and its output for backends that run the
   * ReLU's backward from it ({@link dev.marrow.engine.backend.Backend#batchNormReluBackward}).
   */
  public static BackwardReads batchNormReluReads() {
    return BackwardReads.INPUTS_AND_OUTPUT;
  }

  /** The ReLU's step once fused: the batch norm's output and output gradient, nothing to run. */
  public static LayerStep folded(LayerStep into) {
    return new LayerStep() {
      @Override
      public Tensor output() {
        return into.output();
      }

      @Override
      public Tensor outputGrad() {
        return into.outputGrad();
      }

      @Override
      public void forward(boolean training) {}

      @Override
      public void backward() {}
    };
  }
}
