/**
 * Marrow's public API: {@link dev.marrow.Model} (build, compile, fit, evaluate, predict, save,
 * load; or {@code backward} + {@code step} for a hand-written loop) with {@link
 * dev.marrow.Layers}, {@link dev.marrow.Optimizers} and {@link dev.marrow.Losses}. The engine
 * packages it builds on ({@code dev.marrow.engine.*}: nn, train, train.callbacks, data, io,
 * tensor, backend) are public for advanced use; classes that are not public (the CPU kernels in
 * {@code backend.cpu}) are internal.
 */
package dev.marrow;
