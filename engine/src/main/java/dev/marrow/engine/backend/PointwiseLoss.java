package dev.marrow.engine.backend;

/**
 * Losses that compare each prediction with its target on its own, summed by {@link
 * Backend#pointwiseLoss}. With d = prediction − target, z a logit, p a probability and t a target:
 *
 * <ul>
 *   <li>{@code ABSOLUTE}: |d|, gradient sign(d) (0 at 0, as PyTorch's L1Loss);
 *   <li>{@code HUBER}: ½d² where |d| ≤ δ, else δ(|d| − ½δ); gradient d clipped to [−δ, δ];
 *   <li>{@code BINARY_CROSSENTROPY_LOGITS}: max(z, 0) − z·t + log(1 + e^−|z|), gradient σ(z) − t;
 *   <li>{@code BINARY_CROSSENTROPY_PROBABILITIES}: −t·log p − (1 − t)·log(1 − p) with p clipped to
 *       [ε, 1 − ε] as Keras does (ε = 1e-7), gradient (p − t)/(p(1 − p)), 0 where clipped.
 * </ul>
 */
public enum PointwiseLoss {
  ABSOLUTE,
  HUBER,
  BINARY_CROSSENTROPY_LOGITS,
  BINARY_CROSSENTROPY_PROBABILITIES;

  /** Keras' backend.epsilon(), the clip of probabilities. */
  public static final float PROBABILITY_EPSILON = 1e-7f;
}
