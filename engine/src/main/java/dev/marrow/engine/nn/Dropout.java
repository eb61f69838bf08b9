package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.Map;

/**
 * Inverted dropout: in training, zeroes each element with probability {@code rate} and scales the
 * rest by 1/(1 − rate); in inference it passes its input through unchanged.
 */
public final class Dropout extends Layer {
  private final float rate;

  public Dropout(double rate) {
    if (!(rate >= 0 && rate < 1)) {
      throw new IllegalArgumentException("Dropout rate must be in [0, 1), got " + rate);
    }
    this.rate = (float) rate;
  }

  public float rate() {
    return rate;
  }

  @Override
  public String typeName() {
    return "dropout";
  }

  @Override
  public Shape computeOutputShape(Shape inputShape) {
    return inputShape;
  }

  @Override
  public Map<String, Object> config() {
    Map<String, Object> c = super.config();
    c.put("rate", (double) rate);
    return c;
  }

  /** The mask it saved in forward, and dy. */
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.NOTHING;
  }

  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Backend b = ctx.backend();
    Tensor mask = ctx.training() ? ctx.saved(outputShape()) : null;
    return new BufferedStep(ctx.output(outputShape()), ctx.outputGrad(outputShape())) {
      @Override
      public void forward(boolean training) {
        if (training && rate > 0) {
          b.dropoutForward(x, y, mask, rate, ctx.seeds().seedFor(index()));
        } else {
          b.copy(x, y);
        }
      }

      @Override
      public void backward() {
        if (dx != null) {
          if (rate > 0) {
            b.dropoutBackward(dy, mask, dx);
          } else {
            b.copy(dy, dx);
          }
        }
      }
    };
  }
}
