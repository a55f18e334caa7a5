/**
 * Builds an ImageTransform from a JSON list in params, e.g.
 * [{"type":"flip","p":0.5},{"type":"shrinkpad","maxSize":4}], applied in order.
 * The factory table is a plain value, not global state: callers that add transforms
 * (camera simulation, rotation, scale) pass `{...builtinTransforms, mine: factory}`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../common/rng.js';
import { withPixels, type ImageTransform, type PixelTransform } from '../common/types.js';
import { randomFlip } from './flip.js';
import { randomShrinkPad, fixedShrinkPad } from './shrinkpad.js';

export interface TransformSpec {
  type: string;
  [option: string]: unknown;
}

export type TransformFactory = (spec: TransformSpec) => ImageTransform;
export type TransformFactories = Readonly<Record<string, TransformFactory>>;

function numberOption(spec: TransformSpec, name: string, fallback?: number): number {
  const v = spec[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`transform '${spec.type}': option '${name}' must be a number, got ${JSON.stringify(spec[name])}`);
  return v;
}

function onlyOptions(spec: TransformSpec, allowed: string[]): void {
  const extra = Object.keys(spec).filter((k) => k !== 'type' && !allowed.includes(k));
  if (extra.length > 0) throw new TypeError(`transform '${spec.type}': unknown option(s) ${extra.join(', ')} (allowed: ${allowed.join(', ') || 'none'})`);
}

/**
 * - flip {p = 0.5}: per-image horizontal flip with probability p;
 * - shrinkpad {maxSize}: shrink size uniform in 0..maxSize per image, random offset;
 * - shrinkpad-fixed {size}: ShrinkPad-size as the defense uses it.
 */
export const builtinTransforms: TransformFactories = {
  flip: (spec) => {
    onlyOptions(spec, ['p']);
    return randomFlip(numberOption(spec, 'p', 0.5));
  },
  shrinkpad: (spec) => {
    onlyOptions(spec, ['maxSize']);
    return randomShrinkPad(numberOption(spec, 'maxSize'));
  },
  'shrinkpad-fixed': (spec) => {
    onlyOptions(spec, ['size']);
    return fixedShrinkPad(numberOption(spec, 'size'));
  },
};

/** Returns a factory table with `extra` added (or overriding) on top of `base`. */
export function registerTransform(type: string, factory: TransformFactory, base: TransformFactories = builtinTransforms): TransformFactories {
  return { ...base, [type]: factory };
}

/** Chains the listed transforms in order; an empty list is the identity (a copy of the input). */
export function composeTransforms(specs: readonly TransformSpec[], factories: TransformFactories = builtinTransforms): ImageTransform {
  if (!Array.isArray(specs)) throw new TypeError(`transform list must be an array, got ${JSON.stringify(specs)}`);
  const steps = specs.map((spec, i) => {
    if (spec === null || typeof spec !== 'object' || typeof spec.type !== 'string') throw new TypeError(`transform #${i} needs a string 'type', got ${JSON.stringify(spec)}`);
    const factory = factories[spec.type];
    if (!factory) throw new RangeError(`transform #${i}: unknown type '${spec.type}' (allowed: ${Object.keys(factories).join(', ')})`);
    return factory(spec);
  });
  const tensors = (x: tf.Tensor4D, rng: Rng) => {
    let current = x.clone();
    for (const step of steps) {
      const next = step(current, rng);
      current.dispose();
      current = next;
    }
    return current;
  };
  // The in-place form exists only when every step has one; otherwise callers use the tensors.
  const pixelSteps = steps.map((step) => step.pixels);
  if (!pixelSteps.every((step): step is PixelTransform => step !== undefined)) return tensors;
  return withPixels(tensors, (images, rows, shape, rng) => {
    for (const step of pixelSteps) step(images, rows, shape, rng);
  });
}
