package dev.marrow.engine.train.callbacks;

import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.History;
import dev.marrow.engine.train.TrainingContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Stops training when the monitored quantity has not improved for {@code patience} epochs, as
 * Keras' EarlyStopping; with {@code restoreBestWeights} the model ends with the weights of its best
 * epoch.
 */
public final class EarlyStopping extends Monitor {
  private final int patience;
  private final boolean restoreBestWeights;
  private int bestEpoch;
  private int stoppedEpoch;
  private Map<String, Tensor> bestWeights;

  public EarlyStopping(Monitor.Quantity monitor, int patience, boolean restoreBestWeights) {
    super(monitor);
    if (patience < 0) {
      throw new IllegalArgumentException("patience must be >= 0, got " + patience);
    }
    this.patience = patience;
    this.restoreBestWeights = restoreBestWeights;
  }

  /** Keras' common use: {@code EarlyStopping(monitor="val_loss", patience=N)}. */
  public static EarlyStopping onValLoss(int patience, boolean restoreBestWeights) {
    return new EarlyStopping(Monitor.of("val_loss"), patience, restoreBestWeights);
  }

  @Override
  public void onTrainBegin(TrainingContext ctx) {
    super.onTrainBegin(ctx);
    stoppedEpoch = 0;
    bestWeights = null;
  }

  @Override
  public void onEpochEnd(TrainingContext ctx, EpochStats stats) {
    if (improved(stats)) {
      bestEpoch = stats.epoch();
      if (restoreBestWeights) {
        bestWeights = copy(ModelFiles.stateDict(ctx.model()));
      }
      return;
    }
    if (waited() > patience) {
      stoppedEpoch = stats.epoch();
      ctx.stopTraining();
    }
  }

  @Override
  public void onTrainEnd(TrainingContext ctx, History history) {
    if (restoreBestWeights && bestWeights != null && bestEpoch != history.last().epoch()) {
      Map<String, Tensor> state = ModelFiles.stateDict(ctx.model());
      bestWeights.forEach((name, t) -> state.get(name).copyFrom(t));
    }
  }

  /** The epoch training stopped after, or 0 if it ran to the end. */
  public int stoppedEpoch() {
    return stoppedEpoch;
  }

  public int bestEpoch() {
    return bestEpoch;
  }

  private static Map<String, Tensor> copy(Map<String, Tensor> state) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    state.forEach((k, v) -> out.put(k, v.copy()));
    return out;
  }
}
