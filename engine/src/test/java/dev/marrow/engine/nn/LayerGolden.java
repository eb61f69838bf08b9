package dev.marrow.engine.nn;

import com.fasterxml.jackson.databind.JsonNode;
import dev.marrow.engine.Goldens;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * What one layer must compute on one batch, from PyTorch (goldens/layers.json, see
 * src/test/python/make_goldens.py) or from plain loops in a test: the input x, the parameters and
 * buffers to load (in the layer's {@link Layer#parameters()} and {@link Layer#buffers()} order),
 * the output y, an upstream gradient dy, and for the loss Σ y·dy the input gradient dx and every
 * parameter's gradient; optionally the buffers after the step and the inference-mode output.
 *
 * <p>{@code rtol} and {@code atol} bound outputs and the input gradient; parameter gradients, sums
 * over the batch and pixels, get ten times atol, buffers a tenth. {@code firstOfTies}: x holds tied
 * maxima and the gradient goes to the first, which PyTorch's CPU kernels and ours promise and cuDNN
 * does not (CUDA skips such a case).
 */
public record LayerGolden(
    String name,
    Tensor x,
    List<Tensor> params,
    List<Tensor> buffers,
    Tensor y,
    Tensor dy,
    Tensor dx,
    List<Tensor> paramGrads,
    List<Tensor> buffersAfter,
    Tensor yEval,
    boolean firstOfTies,
    double rtol,
    double atol) {

  /** A layer without parameters, compared exactly: it only moves or selects values. */
  public static LayerGolden exact(String name, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    return new LayerGolden(
        name, x, List.of(), List.of(), y, dy, dx, List.of(), List.of(), null, false, 0, 0);
  }

  /** The same golden, with tied maxima in x. */
  public LayerGolden withTies() {
    return new LayerGolden(
        name, x, params, buffers, y, dy, dx, paramGrads, buffersAfter, yEval, true, rtol, atol);
  }

  /** The case of that name in goldens/layers.json, compared within 1e-4 relative. */
  public static LayerGolden pytorch(String name) {
    JsonNode c = Goldens.named("layers.json", name);
    // Dense and Conv2D hold (weight, bias), batch norm (γ, β) = PyTorch's (weight, bias).
    List<String> keys = c.has("gamma") ? List.of("gamma", "beta") : List.of("weight", "b");
    List<Tensor> params = new ArrayList<>(), grads = new ArrayList<>();
    for (String k : keys) {
      if (c.has(k)) {
        params.add(Goldens.tensor(c.get(k)));
        grads.add(Goldens.tensor(c.get("d" + k)));
      }
    }
    List<Tensor> buffers = new ArrayList<>(), after = new ArrayList<>();
    for (String k : List.of("running_mean", "running_var")) {
      if (c.has(k)) {
        buffers.add(Goldens.tensor(c.get(k)));
        after.add(Goldens.tensor(c.get(k + "_after")));
      }
    }
    return new LayerGolden(
        name,
        Goldens.tensor(c.get("x")),
        params,
        buffers,
        Goldens.tensor(c.get("y")),
        Goldens.tensor(c.get("dy")),
        Goldens.tensor(c.get("dx")),
        grads,
        after,
        c.has("y_eval") ? Goldens.tensor(c.get("y_eval")) : null,
        name.contains("ties"),
        1e-4,
        1e-5);
  }
}
