/**
 * Swapping tfjs kernels in and out of its registry: each blend kernel takes the place of
 * tfjs's kernel of the same name and backend, and can give it back (to compare the two).
 * @module
 */

import { tf } from "../deps.ts";

/** Register `kernelFunc` in place of the kernel `config` describes (same name, backend). */
export function replaceKernel(config: tf.KernelConfig, kernelFunc: unknown): void {
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel({ ...config, kernelFunc: kernelFunc as tf.KernelFunc });
}

/** Register the kernels `configs` describe again, in place of whatever has their names. */
export function restoreKernels(configs: readonly tf.KernelConfig[]): void {
  for (const config of configs) {
    tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
}
