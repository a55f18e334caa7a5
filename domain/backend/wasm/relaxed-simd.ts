/**
 * WebAssembly relaxed SIMD (fused multiply-add, `f32x4.relaxed_madd`) for our own kernels.
 * Node 20's V8 has it behind `--experimental-wasm-relaxed-simd`; the flag is a V8 feature flag
 * that can be turned on in a running process before a module using it is compiled, so workers
 * need no extra command-line flag. Newer Node versions have it on by default.
 *
 * TRIGGER_LAB_RELAXED_SIMD=off keeps the plain SIMD kernels (mul then add, rounded twice);
 * the fused form rounds once, so its sums differ from the plain ones in the last bits.
 */
import v8 from 'node:v8';

export type SimdArithmetic = 'relaxed' | 'plain';

/** (module (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd)) */
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
]);

let available: boolean | undefined;
let chosen: SimdArithmetic | undefined;

/** Whether this process can compile relaxed SIMD, turning V8's flag on if that is what it takes. */
export function relaxedSimdAvailable(): boolean {
  if (available !== undefined) return available;
  available = WebAssembly.validate(PROBE);
  if (!available) {
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      available = WebAssembly.validate(PROBE);
    } catch {
      available = false;
    }
  }
  return available;
}

function fromEnvironment(): SimdArithmetic {
  const wanted = process.env.TRIGGER_LAB_RELAXED_SIMD ?? 'auto';
  if (!['auto', 'on', 'off'].includes(wanted)) {
    throw new Error(`TRIGGER_LAB_RELAXED_SIMD must be auto, on or off, got '${wanted}'`);
  }
  if (wanted === 'off') return 'plain';
  if (relaxedSimdAvailable()) return 'relaxed';
  if (wanted === 'on') throw new Error('TRIGGER_LAB_RELAXED_SIMD=on, but this Node/V8 cannot compile WebAssembly relaxed SIMD');
  return 'plain';
}

/** The arithmetic our SIMD kernels use: relaxed where available, unless turned off. */
export function simdArithmetic(): SimdArithmetic {
  chosen ??= fromEnvironment();
  return chosen;
}

/** Forces one arithmetic (tests and benchmarks compare both); 'relaxed' fails where it is unavailable. */
export function useSimdArithmetic(arithmetic: SimdArithmetic): void {
  if (arithmetic === 'relaxed' && !relaxedSimdAvailable()) throw new Error('WebAssembly relaxed SIMD is not available in this Node/V8');
  chosen = arithmetic;
}
