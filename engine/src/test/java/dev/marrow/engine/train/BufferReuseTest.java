package dev.marrow.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.ActivationLayer;
import dev.marrow.engine.nn.Add;
import dev.marrow.engine.nn.Average;
import dev.marrow.engine.nn.BatchNormalization;
import dev.marrow.engine.nn.BufferPlan;
import dev.marrow.engine.nn.Concatenate;
import dev.marrow.engine.nn.Conv2D;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Dropout;
import dev.marrow.engine.nn.Flatten;
import dev.marrow.engine.nn.GlobalAveragePooling2D;
import dev.marrow.engine.nn.GradientCheck;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Multiply;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.nn.Padding;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.nn.Pooling2D;
import dev.marrow.engine.nn.Reshape;
import dev.marrow.engine.nn.ZeroPadding2D;
import dev.marrow.engine.nn.custom.Bias;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Buffers whose lifetime has ended lend their memory to later ones, and nothing a plan computes
 * changes: weights after training steps and predictions are bit-identical with and without reuse,
 * on every backend, while the memory lent is filled with NaN between steps (so a layer that read a
 * lent buffer before writing it, or kept something in one across steps, would spread NaN).
 */
class BufferReuseTest {
  private static final Loss LOSS = new SparseCategoricalCrossentropy(true);

  /**
   * ResNet's basic blocks in small: stem conv+BN+relu, an identity block and a stride-2 block with
   * a 1×1 projection shortcut, a max pool, global average pooling, dense.
   */
  static Graph residual() {
    Node x = Node.input(2, 12, 12);
    Node h = relu(bn(conv(8, 3, 1).apply(x)));
    h = block(h, 8, 1);
    h = block(h, 16, 2);
    h = Pooling2D.max(2).apply(h);
    Node out = new Dense(5).apply(new GlobalAveragePooling2D().apply(h));
    return new Graph(List.of(x), List.of(out));
  }

  private static Node block(Node x, int filters, int stride) {
    Node main = relu(bn(conv(filters, 3, stride).apply(x)));
    main = bn(conv(filters, 3, 1).apply(main));
    Node shortcut = x;
    if (stride != 1 || x.shape().dim(0) != filters) {
      shortcut = bn(conv(filters, 1, stride).apply(x));
    }
    return relu(new Add().apply(main, shortcut));
  }

  /**
   * Inception-like branches joined by concatenation, with the layers whose buffers differ most: a
   * GELU convolution (its pre-activation kept), zero padding, a gate (Multiply reads its inputs),
   * Average, Reshape and Flatten views, Dropout's mask, a softplus Dense and a layer of one's own
   * (which keeps everything by default).
   */
  static Graph concatenation() {
    Node x = Node.input(3, 10, 10);
    Node a = Conv2D.builder(6, 1).activation(Activation.RELU).build().apply(x);
    Node b = Conv2D.builder(4, 3).activation(Activation.GELU).build().apply(x);
    b = new ZeroPadding2D(1).apply(b);
    Node c = new ActivationLayer("sigmoid").apply(Conv2D.builder(6, 3).build().apply(b));
    c = new ZeroPadding2D(1).apply(c);
    Node gated = new Multiply().apply(a, c);
    Node mean = new Average().apply(a, gated);
    Node joined = new Concatenate().apply(a, b, mean); // (16, 10, 10)
    Node pooled = Pooling2D.average(2).apply(joined);
    Node flat = new Flatten().apply(new Reshape(16, 25).apply(pooled));
    Node h = new Dense(12, Activation.SOFTPLUS).apply(new Dropout(0.25).apply(flat));
    h = new Bias(0.1f).apply(h);
    Node out = new Dense(5).apply(new Concatenate().apply(h, new Dense(4, "tanh").apply(h)));
    return new Graph(List.of(x), List.of(out));
  }

  private static Conv2D conv(int filters, int kernel, int stride) {
    return Conv2D.builder(filters, kernel)
        .strides(stride, stride)
        .padding(Padding.explicit(kernel / 2, kernel / 2))
        .useBias(false)
        .build();
  }

  private static Node bn(Node x) {
    return new BatchNormalization(0.9, 1e-5).apply(x);
  }

  private static Node relu(Node x) {
    return new ActivationLayer(Activation.RELU).apply(x);
  }

  @Test
  void trainingWithReuseGivesTheWeightsOfTrainingWithout() {
    for (Supplier<Graph> model :
        List.<Supplier<Graph>>of(() -> residual(), () -> concatenation())) {
      for (Backend b : backends()) {
        try (b) {
          List<float[]> reused = train(model, b, true);
          List<float[]> own = train(model, b, false);
          assertEquals(own.size(), reused.size());
          for (int i = 0; i < own.size(); i++) {
            assertArrayEquals(own.get(i), reused.get(i), b.name() + " tensor " + i);
          }
        }
      }
    }
  }

  @Test
  void predictionsWithReuseAreThoseWithout() {
    for (Supplier<Graph> model :
        List.<Supplier<Graph>>of(() -> residual(), () -> concatenation())) {
      for (Backend b : backends()) {
        try (b) {
          Graph net = model.get().build(7);
          Dataset data = GradientCheck.randomData(net.inputShape(), 6, 5, 3);
          Plan reusing = Plan.forInference(net, b, 6, null, true);
          Plan owning = Plan.forInference(net, b, 6, null, false);
          reusing.fillLentBuffers(Float.NaN);
          reusing.loadBatch(data, null, 0);
          owning.loadBatch(data, null, 0);
          reusing.forward(false);
          owning.forward(false);
          assertArrayEquals(owning.output().toArray(), reusing.output().toArray(), b.name());
          assertTrue(reusing.memory().total() < owning.memory().total(), b.name());
        }
      }
    }
  }

  /** Five Adam steps (dropout seeded per step); returns every parameter and buffer after them. */
  private static List<float[]> train(Supplier<Graph> model, Backend backend, boolean reuse) {
    Graph net = model.get().build(11);
    Dataset data = GradientCheck.randomData(net.inputShape(), 8, 5, 4);
    Adam adam = new Adam(1e-2);
    adam.attach(backend, net.parameters());
    Plan plan = Plan.forTraining(net, backend, 8, LOSS, reuse);
    plan.loadBatch(data, null, 0);
    for (int step = 0; step < 5; step++) {
      if (reuse) {
        plan.fillLentBuffers(Float.NaN); // nothing lent may carry over from one step to the next
      }
      plan.setStepSeed(step);
      assertTrue(Float.isFinite(plan.trainStep(adam)), "loss of step " + step);
    }
    List<float[]> state = new ArrayList<>();
    for (var layer : net.layers()) {
      for (Parameter p : layer.parameters()) {
        state.add(p.value().toArray());
      }
      for (Parameter p : layer.buffers()) {
        state.add(p.value().toArray());
      }
    }
    state.add(plan.output().toArray());
    return state;
  }

  /** CPU, reference, and CUDA (deterministic: bit-identical runs) when the run has it. */
  private static List<Backend> backends() {
    List<Backend> all = new ArrayList<>(List.of(TestBackends.cpu(2), new ReferenceBackend()));
    TestBackends.cuda(true).ifPresent(all::add);
    return all;
  }

  @Test
  void aTrainingPlanReusesWhatNoBackwardPassReads() {
    try (Backend cpu = TestBackends.cpu(1)) {
      Graph net = residual().build(1);
      Plan.Memory with = Plan.forTraining(net, cpu, 16, LOSS, true).memory();
      Plan.Memory without = Plan.forTraining(net, cpu, 16, LOSS, false).memory();
      assertEquals(without.unshared(), without.total());
      assertEquals(with.unshared(), without.unshared());
      // BatchNorm's and Add's outputs are read by nothing after the next forward pass, and a
      // backward pass needs only a few gradients at once.
      assertTrue(with.sharedActivations() < with.activations(), with.toString());
      assertTrue(with.sharedGradients() < with.gradients() / 2, with.toString());
      assertTrue(
          with.total() <= with.sharedActivations() + with.sharedGradients(), with.toString());
    }
  }

  @Test
  void buffersShareMemoryOnlyWhenTheirLifetimesDoNotOverlap() {
    try (Backend cpu = TestBackends.cpu(1)) {
      BufferPlan plan = new BufferPlan(cpu, 3);
      Tensor a = plan.lend(Shape.of(10), BufferPlan.Kind.ACTIVATION);
      Tensor b = plan.lend(Shape.of(10), BufferPlan.Kind.ACTIVATION);
      Tensor c = plan.lend(Shape.of(6), BufferPlan.Kind.GRADIENT);
      Tensor d = plan.lend(Shape.of(12), BufferPlan.Kind.GRADIENT);
      plan.use(a, 0);
      plan.use(a, 1);
      plan.use(b, 1); // overlaps a at 1
      plan.use(b, 2);
      plan.use(c.reshape(Shape.of(2, 3)), 2); // a view counts for its buffer
      plan.use(c, 3);
      plan.use(d, 4);
      assertThrows(IllegalStateException.class, () -> a.array());
      plan.bind(true);
      // Largest first: d makes a block of 12, a fits it (free until 4), b overlaps a and makes a
      // block of its own, c (alive at 2 and 3) takes the first 6 floats of d's block.
      assertSame(d.array(), a.array());
      assertSame(d.array(), c.array());
      assertNotSame(a.array(), b.array());
      assertEquals(12, a.array().length);
      assertEquals(6, c.toArray().length);
      assertEquals(4 * (12 + 10), plan.allocatedBytes());
      assertEquals(4 * 20, plan.bytes(BufferPlan.Kind.ACTIVATION));
      assertEquals(4 * 20, plan.sharedBytes(BufferPlan.Kind.ACTIVATION)); // a and b overlap
      assertEquals(4 * 12, plan.sharedBytes(BufferPlan.Kind.GRADIENT));
    }
  }
}
