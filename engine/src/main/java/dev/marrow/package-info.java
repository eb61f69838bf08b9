/**
 * Marrow's public API: {@link dev.marrow.Model} (build, compile, fit, evaluate, predict, save,
 * load; or {@code backward} + {@code step} for a hand-written loop) with {@link dev.marrow.Layers},
 * {@link dev.marrow.Optimizers} and {@link dev.marrow.Losses}. The engine packages it builds on
 * ({@code dev.marrow.engine.*}: nn, tensor, data, train, train.callbacks, loss, optim, init, io,
 * and the backend SPI) are public for advanced use. The backends themselves ({@code backend.cpu},
 * {@code backend.cuda}, {@code backend.reference}) are internal: module {@code dev.marrow.engine}
 * does not export them.
 */
package dev.marrow;
