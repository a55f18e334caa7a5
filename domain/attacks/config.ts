/**
 * Attack definitions as they appear in params (pixel quantities on the paper's 0-255 scale),
 * and their translation into triggers, poisoning modes and PGD/UAP options on the [0, 1] scale.
 */
import { badNetsTrigger, blendedTrigger, fourCornerTrigger, perturbationTrigger, type PatchLayout, type Trigger } from './trigger.js';
import type { PoisonMode } from './poison.js';
import type { PgdOptions } from './pgd.js';
import type { UapNorm } from './uap.js';

export interface PatchAttackDefinition {
  type: 'badnets' | 'blended';
  ratio: number;
  /** Non-zero trigger pixel value, 0-255. */
  value: number;
  alpha: number;
  layout: PatchLayout;
  /** [row, col] of the patch's bottom-right pixel; null = the image's bottom-right corner. */
  bottomRight: [number, number] | null;
}

/** PGD settings in params: epsilon and step on the 0-255 scale. */
export interface PgdParams {
  epsilon: number;
  stepSize: number;
  steps: number;
  randomStart: boolean;
  batchSize: number;
}

export interface ConsistentAttackDefinition {
  type: 'consistent';
  /** Fraction of the target class poisoned. */
  ratio: number;
  value: number;
  alpha: number;
  layout: PatchLayout;
  pgd: PgdParams;
  surrogate: 'standard' | 'adversarial';
  /** Adversarial training of the surrogate (used when surrogate = 'adversarial'). */
  adversarialTraining: PgdParams & { epochs: number | null };
}

export interface UapAttackDefinition {
  type: 'uap';
  ratio: number;
  norm: UapNorm;
  /** L-inf: per pixel, 0-255; L2: over the image, on the 0-255 scale. */
  radius: number;
  stepSize: number;
  epochs: number;
  batchSize: number;
  /** Training images the perturbation is computed on. */
  images: number;
  targeted: boolean;
}

export type AttackDefinition = PatchAttackDefinition | ConsistentAttackDefinition | UapAttackDefinition;
export const ATTACK_TYPES = ['badnets', 'blended', 'consistent', 'uap'] as const;

export function poisonModeFor(def: AttackDefinition): PoisonMode {
  return def.type === 'consistent' ? 'target-class' : 'non-target';
}

/** PGD options on the [0, 1] scale from their params form. */
export function pgdOptionsFrom(p: PgdParams): PgdOptions {
  return { epsilon: p.epsilon / 255, stepSize: p.stepSize / 255, steps: p.steps, randomStart: p.randomStart };
}

/** The trigger of a patch or label-consistent attack for images of `imageShape`. */
export function patchTriggerFor(def: AttackDefinition, imageShape: [number, number, number]): Trigger {
  switch (def.type) {
    case 'badnets':
    case 'blended': {
      const build = def.type === 'badnets' ? badNetsTrigger : blendedTrigger;
      return build({ imageShape, value: def.value, alpha: def.alpha, layout: def.layout, ...(def.bottomRight ? { bottomRight: def.bottomRight } : {}) });
    }
    case 'consistent':
      return fourCornerTrigger({ imageShape, value: def.value, alpha: def.alpha, layout: def.layout });
    case 'uap':
      throw new Error(`attack type 'uap' has no patch trigger: its trigger comes from the uap stage's perturbation`);
    default:
      throw new RangeError(`unknown attack type '${(def as { type: string }).type}' (allowed: ${ATTACK_TYPES.join(', ')})`);
  }
}

/** The additive trigger of a UAP attack from its perturbation (on the [0, 1] scale). */
export function uapTriggerFor(def: UapAttackDefinition, delta: Float32Array, imageShape: [number, number, number]): Trigger {
  return perturbationTrigger(delta, imageShape, { norm: def.norm, radius255: def.radius, targeted: def.targeted ? 'yes' : 'no' });
}
