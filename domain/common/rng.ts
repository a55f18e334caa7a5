/**
 * Seeded pseudo-random numbers (sfc32), with a state that can be saved in a
 * checkpoint and restored, so that a resumed run draws exactly what an
 * uninterrupted one would have drawn. Math.random is never used in domain code.
 */

export type RngState = [number, number, number, number];

/** Mixes a string or number into 32-bit seed words (cyrb128), so that `fork('poison')` and `fork('augment')` are independent. */
function hashSeed(text: string): RngState {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string | RngState) {
    const s = Array.isArray(seed) ? seed : hashSeed(String(seed));
    [this.a, this.b, this.c, this.d] = s.map((v) => v >>> 0) as RngState;
    if (!Array.isArray(seed)) for (let i = 0; i < 15; i++) this.nextUint32();
  }

  /** A new generator whose stream depends on this one's seed state and `label`, without advancing this one. */
  fork(label: string | number): Rng {
    return new Rng(`${this.a},${this.b},${this.c},${this.d}/${label}`);
  }

  state(): RngState {
    return [this.a, this.b, this.c, this.d];
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Integer uniform in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new RangeError(`Rng.int: bad range [${lo}, ${hi}]`);
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  bool(pTrue = 0.5): boolean {
    return this.uniform() < pTrue;
  }

  /** Standard normal (Box-Muller). No value is cached, so `state()` captures everything. */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** In-place Fisher-Yates shuffle; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** `k` distinct indices from 0..n-1, in increasing order. */
  sample(n: number, k: number): number[] {
    if (k > n || k < 0) throw new RangeError(`Rng.sample: cannot draw ${k} of ${n}`);
    return this.permutation(n).slice(0, k).sort((x, y) => x - y);
  }

  /** A seed for tfjs initialisers / ops that take a numeric seed. */
  seed(): number {
    return this.nextUint32() % 2147483647;
  }
}
