package dev.marrow.engine.loss;

import static dev.marrow.engine.Assertions2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.marrow.Losses;
import dev.marrow.engine.Goldens;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every loss in {@code goldens/losses.json} (torch.nn's L1Loss, MSELoss, HuberLoss,
 * BCEWithLogitsLoss, BCELoss and soft-label cross-entropy, see
 * src/test/python/make_loss_goldens.py) against Marrow's on each backend: the mean loss and its
 * gradient with respect to the predictions.
 */
class LossGoldenTest {
  private static final List<Backend> BACKENDS =
      TestBackends.withCuda(TestBackends.cpu(2), new ReferenceBackend());

  @AfterAll
  static void close() {
    BACKENDS.forEach(Backend::close);
  }

  static Stream<Arguments> cases() {
    return Goldens.cases("losses.json", BACKENDS);
  }

  static Loss loss(JsonNode c) {
    JsonNode p = c.get("params");
    return switch (c.get("loss").asText()) {
      case "huber" -> Losses.huber((float) p.get("delta").asDouble());
      case "binary_crossentropy" -> Losses.binaryCrossentropy(p.get("from_logits").asBoolean());
      case "categorical_crossentropy" -> Losses.categoricalCrossentropy(true);
      default -> Losses.byName(c.get("loss").asText());
    };
  }

  @ParameterizedTest(name = "{0}", autoCloseArguments = false)
  @MethodSource("cases")
  void matchesPyTorch(String name, JsonNode c, Backend b) {
    int rows = c.get("shape").get(0).asInt(), cols = c.get("shape").get(1).asInt();
    Tensor predictions = filled(b, c.get("predictions"), rows, cols);
    Tensor targets = filled(b, c.get("targets"), rows, cols);
    Tensor grad = b.allocate(Shape.of(rows, cols));
    Loss loss = loss(c);
    float value = loss.compute(b, predictions, targets, grad, rows, cols);
    assertEquals(c.get("value").asDouble(), value, 2e-6 * Math.max(1, Math.abs(value)), name);
    assertClose(floats(c.get("grad")), grad.readArray(), 1e-5, 1e-7, name + " gradient");
  }

  private static Tensor filled(Backend b, JsonNode values, int rows, int cols) {
    Tensor t = b.allocate(Shape.of(rows, cols));
    System.arraycopy(floats(values), 0, t.array(), 0, rows * cols);
    return t;
  }

  static float[] floats(JsonNode values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) values.get(i).asDouble();
    }
    return out;
  }
}
