/**
 * Just enough of a WebAssembly binary encoder to build the SIMD kernels in
 * simd-kernels.ts at run time (no compiler toolchain is available here): one
 * imported memory, functions of i32/f32 parameters, exported by name.
 * Opcode values are from the WebAssembly core and SIMD specifications.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
type ValType = typeof I32 | typeof F32 | typeof V128;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** Instructions (each returns its bytes; bodies are flat concatenations). */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32ShrU: [0x76],
  i32LtU: [0x49],
  i32GeU: [0x4f],
  select: [0x1b],
  /** memory.copy (bulk memory): dst, src, bytes on the stack. */
  memoryCopy: [0xfc, ...uleb(10), 0x00, 0x00],
  /** i32.load (align hint 4 bytes). */
  i32Load: (offset = 0) => [0x28, 0x02, ...uleb(offset)],
  v128Load: (offset = 0) => [0xfd, ...uleb(0x00), 0x00, ...uleb(offset)],
  /** One float32 from memory into all four lanes. */
  v128Load32Splat: (offset = 0) => [0xfd, ...uleb(0x09), 0x02, ...uleb(offset)],
  v128Store: (offset = 0) => [0xfd, ...uleb(0x0b), 0x00, ...uleb(offset)],
  v128Zero: [0xfd, ...uleb(0x0c), ...new Array<number>(16).fill(0)],
  /** Lanes 2,3 of a f32x4 moved to lanes 0,1 (for promoting the high half). */
  highHalfToLow: [0xfd, ...uleb(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7],
  shuffle: (lanes: number[]) => [0xfd, ...uleb(0x0d), ...lanes],
  v128And: [0xfd, ...uleb(0x4e)],
  v128Not: [0xfd, ...uleb(0x4d)],
  /** a & ~b */
  v128AndNot: [0xfd, ...uleb(0x4f)],
  /** (a & mask) | (b & ~mask) */
  v128Bitselect: [0xfd, ...uleb(0x52)],
  f32x4Splat: [0xfd, ...uleb(0x13)],
  f32x4Gt: [0xfd, ...uleb(0x44)],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  f32x4Sub: [0xfd, ...uleb(0xe5)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2PromoteLow: [0xfd, ...uleb(0x5f)],
};

const { get, set, i32 } = op;

/** while (local < limit) { ...body } (unsigned compare) */
export function whileLess(local: number, limit: number, body: number[][]): number[][] {
  return [op.block, op.loop, get(local), get(limit), op.i32GeU, op.brIf(1), ...body, op.br(0), op.end, op.end];
}

/** for (local = 0; local < limit; local += step) { ...body } */
export function countUp(local: number, limit: number, step: number, body: number[][]): number[][] {
  return [i32(0), set(local), ...whileLess(local, limit, [...body, get(local), i32(step), op.i32Add, set(local)])];
}

/** Adds the float32x4 in local `acc` into the two float64x2 at address local `a` (+ `offset`). */
export function flushInto(a: number, acc: number, offset = 0): number[][] {
  return [
    get(a), get(a), op.v128Load(offset), get(acc), op.f64x2PromoteLow, op.f64x2Add, op.v128Store(offset),
    get(a), get(a), op.v128Load(offset + 16), get(acc), get(acc), op.highHalfToLow, op.f64x2PromoteLow, op.f64x2Add, op.v128Store(offset + 16),
  ];
}

export interface FunctionDef {
  name: string;
  params: ValType[];
  /** Extra locals, numbered after the parameters. */
  locals: ValType[];
  body: number[][];
}

/** A module importing `env.memory` and exporting `functions` (no results). */
export function assemble(functions: FunctionDef[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...uleb(0)]);
  const imports = [[...utf8('env'), ...utf8('memory'), 0x02, 0x00, ...uleb(0)]];
  const funcs = functions.map((_, i) => uleb(i));
  const exports = functions.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)]);
  const codes = functions.map((f) => {
    const locals = vec(f.locals.map((t) => [...uleb(1), t]));
    const body = [...locals, ...f.body.flat(), ...op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcs)),
    ...section(7, vec(exports)),
    ...section(10, vec(codes)),
  ]);
}
