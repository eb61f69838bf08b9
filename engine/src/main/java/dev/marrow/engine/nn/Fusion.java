package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.tensor.Tensor;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Layers a plan runs as one step; the plan compiles every node through this. A {@link
 * BatchNormalization} whose only reader is a ReLU {@link ActivationLayer} (every conv → BN → ReLU
 * of vgg and resnet) writes the ReLU's output in its normalising pass and takes the ReLU's output
 * gradient in its backward pass, where the CPU recomputes the ReLU's test from the saved
 * statistics: one read and one write of the activation fewer each way, and no buffer for the batch
 * norm's own output. An {@link Add} read only by a ReLU (the end of every residual block) likewise
 * writes max(0, Σ x) in one pass and masks the gradient once, straight into its first input's
 * gradient. The ReLU's node keeps its place in the plan with a step that runs nothing and hands on
 * the fused layer's buffers. The model, its layers, parameters and files are unchanged; {@code
 * -Dmarrow.fuse=false} turns fusion off (for measuring it).
 */
public final class Fusion {
  private static final boolean ENABLED =
      Boolean.parseBoolean(System.getProperty("marrow.fuse", "true"));

  /** Each fused batch-norm or Add node's ReLU node. */
  private final Map<Node, Node> reluOf = new IdentityHashMap<>();

  /** Each fused ReLU node's batch-norm or Add step, once compiled. */
  private final Map<Node, LayerStep> foldedInto = new IdentityHashMap<>();

  /**
   * The fusions of a plan over {@code nodes} (topological order): a batch norm or Add whose only
   * reader is a ReLU reading nothing else, when its output is not a model output.
   */
  public Fusion(List<Node> nodes, List<Node> outputs) {
    if (!ENABLED) {
      return;
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
      if (node.layer() instanceof ReluFusable
          && readers.getOrDefault(node, 0) == 1
          && !outputs.contains(node)
          && next.inbound().size() == 1
          && next.layer() instanceof ActivationLayer a
          && a.activation() == Activation.RELU) {
        reluOf.put(node, next);
      }
    }
  }

  /** The step of {@code node}: its layer's own, or its part of a fused pair. */
  public LayerStep compile(Node node, CompileContext ctx, List<Tensor> xs, List<Tensor> dxs) {
    if (reluOf.containsKey(node)) {
      LayerStep step = ((ReluFusable) node.layer()).compileWithRelu(ctx, xs, dxs);
      foldedInto.put(reluOf.get(node), step);
      return step;
    }
    LayerStep into = foldedInto.get(node);
    return into != null ? folded(into) : node.layer().compile(ctx, xs, dxs);
  }

  /**
   * What {@code node}'s step reads in its backward pass: its layer's {@link Layer#backwardReads()},
   * the fused layer's {@link ReluFusable#backwardReadsWithRelu()}, or nothing for the folded ReLU.
   */
  public BackwardReads backwardReads(Node node) {
    if (reluOf.containsKey(node)) {
      return ((ReluFusable) node.layer()).backwardReadsWithRelu();
    }
    return foldedInto.containsKey(node) ? BackwardReads.NOTHING : node.layer().backwardReads();
  }

  // The ReLU's step once fused: the batch norm's output and output gradient, nothing to run.
  private static LayerStep folded(LayerStep into) {
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
