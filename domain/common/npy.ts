/**
 * NumPy `.npy` (format 1.0/2.0) reading and writing: the one array format
 * between stages, so that anyone can open an artifact with numpy.load.
 */
import { promises as fs } from 'node:fs';

export type NpyDtype = 'uint8' | 'int32' | 'float32' | 'float64';
export type NpyData = Uint8Array | Int32Array | Float32Array | Float64Array;

export interface NpyArray<D extends NpyData = NpyData> {
  dtype: NpyDtype;
  shape: number[];
  data: D;
}

const DESCR: Record<NpyDtype, string> = { uint8: '|u1', int32: '<i4', float32: '<f4', float64: '<f8' };
const FROM_DESCR: Record<string, NpyDtype> = { '|u1': 'uint8', '<u1': 'uint8', '<i4': 'int32', '<f4': 'float32', '<f8': 'float64' };
const BYTES: Record<NpyDtype, number> = { uint8: 1, int32: 4, float32: 4, float64: 8 };
const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  throw new TypeError('npy: unsupported typed array');
}

export function encodeNpy(data: NpyData, shape: number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npy: shape [${shape}] holds ${count} values, data has ${data.length}`);
  const dtype = dtypeOf(data);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // The header is padded so that the data starts on a 64-byte boundary, as numpy writes it.
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

export function decodeNpy(buf: Buffer, source = '<buffer>'): NpyArray {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error(`${source}: not a .npy file (bad magic)`);
  const major = buf[6];
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    offset = 10;
  } else if (major === 2 || major === 3) {
    headerLen = buf.readUInt32LE(8);
    offset = 12;
  } else throw new Error(`${source}: unsupported .npy version ${major}`);
  const header = buf.subarray(offset, offset + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${source}: malformed .npy header: ${header.trim()}`);
  const dtype = FROM_DESCR[descr];
  if (!dtype) throw new Error(`${source}: unsupported dtype '${descr}' (allowed: ${Object.keys(FROM_DESCR).join(', ')})`);
  if (fortran === 'True') throw new Error(`${source}: Fortran-ordered arrays are not supported`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = offset + headerLen;
  const byteLength = count * BYTES[dtype];
  if (buf.length - start !== byteLength) throw new Error(`${source}: expected ${byteLength} data bytes for shape [${shape}] ${dtype}, found ${buf.length - start}`);
  // Copy into a fresh, aligned buffer: Node's pooled Buffers may not be aligned for Float32Array views.
  const bytes = new Uint8Array(byteLength);
  bytes.set(buf.subarray(start, start + byteLength));
  const data =
    dtype === 'uint8' ? bytes
    : dtype === 'int32' ? new Int32Array(bytes.buffer)
    : dtype === 'float32' ? new Float32Array(bytes.buffer)
    : new Float64Array(bytes.buffer);
  return { dtype, shape, data };
}

export async function writeNpy(path: string, data: NpyData, shape: number[]): Promise<void> {
  await fs.writeFile(path, encodeNpy(data, shape));
}

export async function readNpy(path: string): Promise<NpyArray> {
  return decodeNpy(await fs.readFile(path), path);
}
