package dev.marrow.engine.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.init.Initializer;
import dev.marrow.engine.loss.CategoricalCrossentropy;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.loss.MeanSquaredError;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.tensor.Shape;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite-difference checks of whole models, through {@link GradientCheck#checkOnEveryBackend}:
 * every loss's gradient, and a VGG-style stack whose layers must compose. Each layer on its own
 * goes through {@link LayerTestHelper} ({@link BuiltinLayerTest}).
 */
class ModelGradientTest {
  private static void check(Supplier<Sequential> model, long seed, Loss loss) {
    var data = GradientCheck.randomData(model.get().build(seed).inputShape(), 7, 4, 11);
    GradientCheck.checkOnEveryBackend(() -> model.get(), seed, loss, data, 2e-2, 2e-3);
  }

  @Test
  void vggStyleStackEndToEnd() {
    // The zoo's vgg in miniature: same-padded bias-free convolutions, BN, ReLU, max-pool, then
    // bias-free Dense + BN + ReLU; checks that the layers compose, not just work alone.
    Supplier<Sequential> vgg =
        () ->
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
                        6,
                        Activation.LINEAR,
                        false,
                        Initializer.glorotNormal(),
                        Initializer.zeros()))
                .add(new BatchNormalization())
                .add(new ActivationLayer(Activation.RELU))
                .add(new Dense(4));
    check(vgg, 13, new SparseCategoricalCrossentropy(true));
  }

  static Stream<Arguments> losses() {
    Supplier<Sequential> logits =
        () -> new Sequential(5).add(new Dense(6, Activation.TANH)).add(new Dense(4));
    Supplier<Sequential> probabilities =
        () ->
            new Sequential(5)
                .add(new Dense(6, Activation.TANH))
                .add(new Dense(4, Activation.SOFTMAX));
    Supplier<Sequential> sigmoid =
        () ->
            new Sequential(5)
                .add(new Dense(6, Activation.SIGMOID))
                .add(new Dense(4, Activation.SIGMOID));
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
    check(model, 7, loss);
  }

  @Test
  void shapesAreInferredAndMismatchesNameTheLayer() {
    Sequential m = new Sequential(1, 28, 28).add(new Flatten()).add(new Dense(10)).build(1);
    assertEquals(Shape.of(10), m.outputShape());
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Sequential(1, 28, 28).add(new Dense(10)).build(1));
    assertTrue(
        e.getMessage().contains("layer dense1") && e.getMessage().contains("Flatten"),
        e.getMessage());
  }
}
