package dev.marrow.engine.train;

/** Mean loss and accuracy over a data set. */
public record Evaluation(double loss, double accuracy, int samples) {}
