#!/usr/bin/python3
"""PyTorch goldens for Marrow's losses and regression/binary metrics.

Writes src/test/resources/goldens/losses.json: for each case the predictions, targets, the mean
loss and d(loss)/d(predictions) from torch.nn's loss modules (reduction="mean"), which Marrow's
Loss.compute must reproduce on every backend, and the metrics mae, mse, rmse and binary accuracy
computed in double. Run with Debian's python3-torch:

    /usr/bin/python3 engine/src/test/python/make_loss_goldens.py engine/src/test/resources/goldens
"""
import json
import os
import sys

import torch

torch.manual_seed(20261129)


def rand(*shape, scale=1.0):
    return (torch.randn(*shape, dtype=torch.float64) * scale).float()


def case(name, loss_name, module, pred, target, **params):
    p = pred.clone().double().requires_grad_(True)
    loss = module(p, target.double())
    loss.backward()
    return {
        "name": name,
        "loss": loss_name,
        "params": params,
        "shape": list(pred.shape),
        "predictions": pred.flatten().tolist(),
        "targets": target.flatten().tolist(),
        "value": loss.item(),
        "grad": p.grad.flatten().tolist(),
    }


def main(out_dir):
    cases = []
    y = rand(16, 3)
    pred = y + rand(16, 3, scale=0.7)
    cases.append(case("mae 16x3", "mean_absolute_error", torch.nn.L1Loss(), pred, y))
    cases.append(case("mse 16x3", "mean_squared_error", torch.nn.MSELoss(), pred, y))
    outliers = pred.clone()
    outliers[::4] += 5.0
    cases.append(case("huber delta 1", "huber", torch.nn.HuberLoss(delta=1.0), outliers, y,
                      delta=1.0))
    cases.append(case("huber delta 0.3", "huber", torch.nn.HuberLoss(delta=0.3), outliers, y,
                      delta=0.3))
    logits = rand(12, 5, scale=4.0)
    labels = (torch.rand(12, 5) < 0.4).float()
    cases.append(case("bce logits multi-label 12x5", "binary_crossentropy",
                      torch.nn.BCEWithLogitsLoss(), logits, labels, from_logits=True))
    soft = torch.rand(12, 5)
    cases.append(case("bce logits soft targets", "binary_crossentropy",
                      torch.nn.BCEWithLogitsLoss(), logits, soft, from_logits=True))
    big = torch.tensor([[40.0], [-40.0], [0.0], [15.0], [-15.0], [3.0]])
    cases.append(case("bce logits saturated", "binary_crossentropy",
                      torch.nn.BCEWithLogitsLoss(), big,
                      torch.tensor([[1.0], [0.0], [1.0], [0.0], [1.0], [1.0]]), from_logits=True))
    probs = torch.rand(10, 4) * 0.96 + 0.02  # inside Keras' clip, where torch's BCELoss agrees
    cases.append(case("bce probabilities 10x4", "binary_crossentropy", torch.nn.BCELoss(), probs,
                      (torch.rand(10, 4) < 0.5).float(), from_logits=False))
    soft_targets = torch.softmax(rand(8, 6), dim=1)
    cases.append(case("categorical crossentropy soft labels", "categorical_crossentropy",
                      lambda p, t: torch.nn.functional.cross_entropy(p, t), rand(8, 6, scale=2.0),
                      soft_targets, from_logits=True))
    path = os.path.join(out_dir, "losses.json")
    with open(path, "w") as f:
        json.dump({"generator": "engine/src/test/python/make_loss_goldens.py",
                   "torch": torch.__version__, "cases": cases}, f, indent=1)
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "src/test/resources/goldens")
