import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '../../domain/common/npy.js';

describe('.npy codec', () => {
  it('round-trips every supported dtype and shape', () => {
    const cases = [
      { data: Uint8Array.from([0, 1, 255, 7, 8, 9]), shape: [2, 3] },
      { data: Int32Array.from([-5, 0, 2147483647]), shape: [3] },
      { data: Float32Array.from([0.5, -1.25, 3e-8, 1e30]), shape: [2, 1, 2] },
      { data: Float64Array.from([Math.PI]), shape: [1] },
    ];
    for (const { data, shape } of cases) {
      const back = decodeNpy(encodeNpy(data, shape));
      expect(back.shape).toEqual(shape);
      expect(Array.from(back.data)).toEqual(Array.from(data));
      expect(back.data.constructor).toBe(data.constructor);
    }
  });

  it('writes the header numpy writes (version 1.0, 64-byte aligned, little-endian descr)', () => {
    const buf = encodeNpy(new Float32Array(6), [2, 3]);
    expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]));
    const headerLen = buf.readUInt16LE(8);
    expect((10 + headerLen) % 64).toBe(0);
    const header = buf.subarray(10, 10 + headerLen).toString('latin1');
    expect(header).toContain("'descr': '<f4'");
    expect(header).toContain("'shape': (2, 3)");
    expect(header.endsWith('\n')).toBe(true);
  });

  it('refuses a shape that does not match the data, and malformed files, naming the source', () => {
    expect(() => encodeNpy(new Uint8Array(5), [2, 3])).toThrow(/holds 6 values, data has 5/);
    expect(() => decodeNpy(Buffer.from('not numpy at all'), 'x.npy')).toThrow(/x\.npy: not a \.npy file/);
    const truncated = encodeNpy(new Uint8Array(10), [10]).subarray(0, 70);
    expect(() => decodeNpy(truncated, 't.npy')).toThrow(/t\.npy: expected 10 data bytes/);
  });
});
