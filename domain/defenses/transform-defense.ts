/**
 * The model-free, data-free defenses (section 5.1, appendix D): a transform applied to every test
 * image before prediction. Specs are JSON from params; each spec has a stable short id used in
 * stage ids and tables. Also measures the per-image inference overhead of a transform (Table 5).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageTransform } from '../common/types.js';
import type { Rng } from '../common/rng.js';
import { flipLeftRight } from '../transforms/flip.js';
import { fixedShrinkPad } from '../transforms/shrinkpad.js';
import { gaussianNoise } from '../transforms/noise.js';
import { colorJitter, checkJitterOptions, JITTER_KINDS, type ColorJitterOptions } from '../transforms/color-jitter.js';
import { builtinTransforms, registerTransform, type TransformFactories, type TransformSpec } from '../transforms/compose.js';

export type TransformDefenseSpec =
  | { type: 'none' }
  | { type: 'flip' }
  | { type: 'shrinkpad'; size: number }
  | { type: 'noise'; std: number }
  | ({ type: 'color-jitter' } & ColorJitterOptions);

export const TRANSFORM_DEFENSE_TYPES = ['none', 'flip', 'shrinkpad', 'noise', 'color-jitter'] as const;

const ALLOWED_KEYS: Record<TransformDefenseSpec['type'], readonly string[]> = {
  none: [],
  flip: [],
  shrinkpad: ['size'],
  noise: ['std'],
  'color-jitter': JITTER_KINDS,
};

/** Validates a spec read from params, naming the bad field and what is allowed. */
export function parseTransformDefense(raw: unknown): TransformDefenseSpec {
  if (raw === null || typeof raw !== 'object' || typeof (raw as { type?: unknown }).type !== 'string') {
    throw new TypeError(`defense spec needs a string 'type', got ${JSON.stringify(raw)}`);
  }
  const spec = raw as Record<string, unknown> & { type: string };
  if (!(TRANSFORM_DEFENSE_TYPES as readonly string[]).includes(spec.type)) {
    throw new RangeError(`unknown transform defense '${spec.type}' (allowed: ${TRANSFORM_DEFENSE_TYPES.join(', ')})`);
  }
  const type = spec.type as TransformDefenseSpec['type'];
  const extra = Object.keys(spec).filter((k) => k !== 'type' && !ALLOWED_KEYS[type].includes(k));
  if (extra.length > 0) throw new RangeError(`defense '${type}': unknown field(s) ${extra.join(', ')} (allowed: ${ALLOWED_KEYS[type].join(', ') || 'none'})`);
  if (type === 'shrinkpad' && !(Number.isInteger(spec.size) && (spec.size as number) >= 1)) {
    throw new RangeError(`defense 'shrinkpad': size must be an integer >= 1, got ${JSON.stringify(spec.size)}`);
  }
  if (type === 'noise' && !(typeof spec.std === 'number' && Number.isFinite(spec.std) && spec.std >= 0)) {
    throw new RangeError(`defense 'noise': std must be a number >= 0 (0-255 scale), got ${JSON.stringify(spec.std)}`);
  }
  if (type === 'color-jitter') {
    const { type: _ignored, ...options } = spec;
    checkJitterOptions(options as ColorJitterOptions);
    if (!JITTER_KINDS.some((k) => typeof options[k] === 'number' && (options[k] as number) > 0)) {
      throw new RangeError(`defense 'color-jitter' needs at least one of ${JITTER_KINDS.join(', ')} > 0, got ${JSON.stringify(spec)}`);
    }
  }
  return spec as unknown as TransformDefenseSpec;
}

/** Short stable id: none, flip, shrinkpad-4, noise-10, jitter-hue-0.1, jitter-brightness-0.2-contrast-0.2. */
export function transformDefenseId(spec: TransformDefenseSpec): string {
  switch (spec.type) {
    case 'none':
    case 'flip':
      return spec.type;
    case 'shrinkpad':
      return `shrinkpad-${spec.size}`;
    case 'noise':
      return `noise-${spec.std}`;
    case 'color-jitter':
      return `jitter-${JITTER_KINDS.filter((k) => (spec[k] ?? 0) > 0).map((k) => `${k}-${spec[k]}`).join('-')}`;
  }
}

/** The transform a spec stands for; null for 'none' (predict on the images as they are). */
export function transformDefense(spec: TransformDefenseSpec): ImageTransform | null {
  switch (spec.type) {
    case 'none':
      return null;
    case 'flip':
      return (x) => flipLeftRight(x);
    case 'shrinkpad':
      return fixedShrinkPad(spec.size);
    case 'noise':
      return gaussianNoise({ std: spec.std });
    case 'color-jitter': {
      const { type: _ignored, ...options } = spec;
      return colorJitter(options);
    }
  }
}

/**
 * The transform registry with this area's transforms added, so that a params transform list
 * (composeTransforms) can name 'noise' {std} and 'color-jitter' {brightness, contrast, saturation, hue}.
 */
export const defenseTransformFactories: TransformFactories = registerTransform(
  'color-jitter',
  (spec: TransformSpec) => {
    const { type: _ignored, ...options } = spec;
    checkJitterOptions(options as ColorJitterOptions);
    return colorJitter(options as ColorJitterOptions);
  },
  registerTransform(
    'noise',
    (spec: TransformSpec) => {
      const extra = Object.keys(spec).filter((k) => k !== 'type' && k !== 'std');
      if (extra.length > 0) throw new TypeError(`transform 'noise': unknown option(s) ${extra.join(', ')} (allowed: std)`);
      return gaussianNoise({ std: spec.std as number });
    },
    builtinTransforms,
  ),
);

export interface OverheadOptions {
  /** Timed passes over the batch after one untimed warm-up pass. */
  repeats: number;
}

/**
 * Wall time the transform adds per image, in milliseconds: the transform alone on `x`, forced to
 * completion by reading its output, averaged over `repeats` passes after a warm-up (first calls
 * compile kernels and would dominate otherwise).
 */
export function transformOverheadMs(transform: ImageTransform | null, x: tf.Tensor4D, rng: Rng, options: OverheadOptions): number {
  if (!Number.isInteger(options.repeats) || options.repeats < 1) throw new RangeError(`overhead repeats must be a positive integer, got ${options.repeats}`);
  if (transform === null) return 0;
  const pass = () => {
    const y = transform(x, rng);
    y.dataSync();
    y.dispose();
  };
  pass();
  const start = performance.now();
  for (let i = 0; i < options.repeats; i++) pass();
  return (performance.now() - start) / (options.repeats * x.shape[0]);
}
