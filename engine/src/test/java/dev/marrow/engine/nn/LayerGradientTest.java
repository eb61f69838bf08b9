package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.init.Initializer;
import dev.marrow.engine.loss.CategoricalCrossentropy;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.loss.MeanSquaredError;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.train.Plan;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite-difference checks for every layer and loss. The layer under test sits between two Dense
 * layers so that both its input gradient (seen through the first layer's weight gradient) and its
 * own parameter gradients are checked.
 */
class LayerGradientTest {
  private static final CpuBackend CPU = TestBackends.cpu(2);
  private static final ReferenceBackend REF = new ReferenceBackend();

  @AfterAll
  static void close() {
    CPU.close();
  }

  private static Sequential sandwich(Layer underTest) {
    return new Sequential(5)
        .add(new Dense(6, Activation.TANH))
        .add(underTest)
        .add(new Dense(4))
        .build(3);
  }

  private static void check(Sequential model, Loss loss) {
    for (Backend b : List.of(CPU, REF)) {
      GradientCheck.check(
          model, loss, b, GradientCheck.randomData(model.inputShape(), 7, 4, 11), 2e-2, 2e-3);
    }
  }

  @ParameterizedTest
  @EnumSource(Activation.class)
  void denseWithFusedActivation(Activation activation) {
    check(sandwich(new Dense(5, activation)), new SparseCategoricalCrossentropy(true));
  }

  @Test
  void denseWithoutBias() {
    check(
        sandwich(
            new Dense(
                3, Activation.SIGMOID, false, Initializer.glorotNormal(), Initializer.zeros())),
        new SparseCategoricalCrossentropy(true));
  }

  @ParameterizedTest
  @EnumSource(Activation.class)
  void activationLayer(Activation activation) {
    check(sandwich(new ActivationLayer(activation)), new SparseCategoricalCrossentropy(true));
  }

  @Test
  void dropoutInTrainingMode() {
    check(sandwich(new Dropout(0.4)), new SparseCategoricalCrossentropy(true));
  }

  // Image layers sit after a convolution (so their input gradient is checked through its
  // filters) and before Flatten → Dense.
  private static Sequential convSandwich(Layer underTest) {
    return convSandwich(underTest, 9);
  }

  private static Sequential convSandwich(Layer underTest, long seed) {
    return new Sequential(2, 7, 6)
        .add(Conv2D.builder(3, 2).activation(Activation.TANH).build())
        .add(underTest)
        .add(new Flatten())
        .add(new Dense(4))
        .build(seed);
  }

  /**
   * The seed of the fused-activation convolution checks, chosen so that no pre-activation lies near
   * ReLU's kink at 0 (see {@link #convPreActivationsStayAwayFromTheKink}): with seed 9 one lies
   * 1.3e-4 from it, both finite-difference steps cross it, and ReLU looked wrong where it was not.
   */
  private static final long CONV_ACTIVATION_SEED = 5;

  @ParameterizedTest
  @EnumSource(value = Activation.class, names = "SOFTMAX", mode = EnumSource.Mode.EXCLUDE)
  void convWithFusedActivation(Activation activation) {
    check(
        convSandwich(Conv2D.builder(4, 3).activation(activation).build(), CONV_ACTIVATION_SEED),
        new SparseCategoricalCrossentropy(true));
  }

  @Test
  void convPreActivationsStayAwayFromTheKink() {
    // The same layers up to the convolution under test, without its activation: the same weights.
    Sequential m =
        new Sequential(2, 7, 6)
            .add(Conv2D.builder(3, 2).activation(Activation.TANH).build())
            .add(Conv2D.builder(4, 3).build())
            .add(new Flatten())
            .build(CONV_ACTIVATION_SEED);
    Plan plan = Plan.forInference(m, REF, 7, new SparseCategoricalCrossentropy(true));
    plan.loadBatch(GradientCheck.randomData(m.inputShape(), 7, 4, 11), null, 0);
    plan.forward(false);
    // A step of 1e-3 moves a pre-activation by at most 1e-3 through this convolution's weights
    // and bias (its inputs are tanh's), and by less than 3e-3 through the first convolution's
    // (one changed tanh plane, 9 taps, glorot weights below 0.31).
    for (float z : plan.output().toArray()) {
      org.junit.jupiter.api.Assertions.assertTrue(Math.abs(z) > 4e-3, "pre-activation " + z);
    }
  }

  static Stream<Arguments> imageLayers() {
    return Stream.of(
        Arguments.of(
            "conv same stride 2",
            (Supplier<Layer>) () -> Conv2D.builder(2, 3).strides(2).padding(Padding.SAME).build()),
        Arguments.of(
            "conv dilation 2 explicit pad, l2",
            (Supplier<Layer>)
                () ->
                    Conv2D.builder(2, 2)
                        .dilation(2)
                        .padding(Padding.explicit(1, 1))
                        .l2(0.05)
                        .build()),
        Arguments.of(
            "conv no bias", (Supplier<Layer>) () -> Conv2D.builder(2, 1).useBias(false).build()),
        Arguments.of("max pool 2", (Supplier<Layer>) () -> Pooling2D.max(2)),
        Arguments.of(
            "max pool 3/2 same", (Supplier<Layer>) () -> Pooling2D.max(3, 2, Padding.SAME)),
        Arguments.of(
            "avg pool 2/1", (Supplier<Layer>) () -> Pooling2D.average(2, 1, Padding.VALID)),
        Arguments.of(
            "avg pool 3/2 same", (Supplier<Layer>) () -> Pooling2D.average(3, 2, Padding.SAME)),
        Arguments.of("batch norm (conv)", (Supplier<Layer>) BatchNormalization::new),
        Arguments.of("global average pooling", (Supplier<Layer>) GlobalAveragePooling2D::new),
        Arguments.of("global max pooling", (Supplier<Layer>) GlobalMaxPooling2D::new),
        Arguments.of("zero padding 1", (Supplier<Layer>) () -> new ZeroPadding2D(1)),
        Arguments.of(
            "zero padding ((2, 0), (1, 3))", (Supplier<Layer>) () -> new ZeroPadding2D(2, 0, 1, 3)),
        Arguments.of(
            "zero padding rows only", (Supplier<Layer>) () -> new ZeroPadding2D(1, 2, 0, 0)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("imageLayers")
  void imageLayerGradients(String name, Supplier<Layer> layer) {
    check(convSandwich(layer.get()), new SparseCategoricalCrossentropy(true));
  }

  @Test
  void vggStyleStackEndToEnd() {
    // The zoo's vgg in miniature: same-padded bias-free convolutions, BN, ReLU, max-pool, then
    // bias-free Dense + BN + ReLU; checks that the layers compose, not just work alone.
    Sequential m =
        new Sequential(1, 6, 6)
            .add(Conv2D.builder(3, 3).padding(Padding.SAME).useBias(false).build())
            .add(new BatchNormalization())
            .add(new ActivationLayer(Activation.RELU))
            .add(Conv2D.builder(2, 3).padding(Padding.SAME).useBias(false).build())
            .add(new BatchNormalization())
            .add(new ActivationLayer(Activation.RELU))
            .add(Pooling2D.max(2))
            .add(new Flatten())
            .add(
                new Dense(
                    6, Activation.LINEAR, false, Initializer.glorotNormal(), Initializer.zeros()))
            .add(new BatchNormalization())
            .add(new ActivationLayer(Activation.RELU))
            .add(new Dense(4))
            .build(13);
    check(m, new SparseCategoricalCrossentropy(true));
  }

  @Test
  void batchNormOnDenseFeaturesAndL2OnDense() {
    check(sandwich(new BatchNormalization(0.9, 1e-3)), new SparseCategoricalCrossentropy(true));
    check(sandwich(new Dense(5, Activation.RELU).l2(0.1)), new SparseCategoricalCrossentropy(true));
  }

  @Test
  void reshapeAndFlatten() {
    Sequential m =
        new Sequential(5)
            .add(new Dense(12, Activation.TANH))
            .add(new Reshape(3, 4))
            .add(new Flatten())
            .add(new Dense(4))
            .build(5);
    check(m, new SparseCategoricalCrossentropy(true));
  }

  static Stream<Arguments> losses() {
    Supplier<Sequential> logits =
        () -> new Sequential(5).add(new Dense(6, Activation.TANH)).add(new Dense(4)).build(7);
    Supplier<Sequential> probabilities =
        () ->
            new Sequential(5)
                .add(new Dense(6, Activation.TANH))
                .add(new Dense(4, Activation.SOFTMAX))
                .build(7);
    Supplier<Sequential> sigmoid =
        () ->
            new Sequential(5)
                .add(new Dense(6, Activation.SIGMOID))
                .add(new Dense(4, Activation.SIGMOID))
                .build(7);
    return Stream.of(
        Arguments.of("sparse CE from logits", logits, new SparseCategoricalCrossentropy(true)),
        Arguments.of(
            "sparse CE of probabilities", probabilities, new SparseCategoricalCrossentropy(false)),
        Arguments.of("categorical CE from logits", logits, new CategoricalCrossentropy(true)),
        Arguments.of(
            "categorical CE of probabilities", probabilities, new CategoricalCrossentropy(false)),
        Arguments.of("mean squared error", logits, MeanSquaredError.mean()),
        Arguments.of("quadratic cost", sigmoid, MeanSquaredError.quadraticCost()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("losses")
  void lossGradients(String name, Supplier<Sequential> model, Loss loss) {
    check(model.get(), loss);
  }

  @Test
  void shapesAreInferredAndMismatchesNameTheLayer() {
    Sequential m = new Sequential(1, 28, 28).add(new Flatten()).add(new Dense(10)).build(1);
    org.junit.jupiter.api.Assertions.assertEquals(Shape.of(10), m.outputShape());
    var e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> new Sequential(1, 28, 28).add(new Dense(10)).build(1));
    org.junit.jupiter.api.Assertions.assertTrue(
        e.getMessage().contains("layer dense1") && e.getMessage().contains("Flatten"),
        e.getMessage());
  }
}
