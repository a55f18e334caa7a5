/** File digests for verifying downloads and local archives. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface ExpectedDigest {
  algorithm: 'md5' | 'sha256';
  hex: string;
}

export async function hashFile(path: string, algorithm: ExpectedDigest['algorithm']): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class ChecksumMismatchError extends Error {
  constructor(readonly path: string, readonly expected: ExpectedDigest, readonly actual: string) {
    super(`${path}: ${expected.algorithm} is ${actual}, expected ${expected.hex}`);
    this.name = 'ChecksumMismatchError';
  }
}

/** Throws ChecksumMismatchError unless the file has the expected digest. */
export async function verifyFile(path: string, expected: ExpectedDigest): Promise<void> {
  const actual = await hashFile(path, expected.algorithm);
  if (actual !== expected.hex.toLowerCase()) throw new ChecksumMismatchError(path, expected, actual);
}

const HEX_LENGTH: Record<ExpectedDigest['algorithm'], number> = { md5: 32, sha256: 64 };

/** The digest to check, preferring sha256; validates the hex so that a typo fails before any download. */
export function expectedDigest(md5: string | null | undefined, sha256: string | null | undefined): ExpectedDigest | null {
  const pick: ExpectedDigest | null = sha256 ? { algorithm: 'sha256', hex: sha256 } : md5 ? { algorithm: 'md5', hex: md5 } : null;
  if (pick && !new RegExp(`^[0-9a-fA-F]{${HEX_LENGTH[pick.algorithm]}}$`).test(pick.hex)) {
    throw new Error(`data.${pick.algorithm} '${pick.hex}' is not a ${pick.algorithm} digest (${HEX_LENGTH[pick.algorithm]} hex digits)`);
  }
  return pick;
}
