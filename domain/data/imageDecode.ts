/**
 * Decoding one image file to raw RGB bytes with sharp (libvips), and resizing
 * with PyTorch's bilinear convention (align_corners=False, half-pixel centres),
 * which is tfjs' resizeBilinear with halfPixelCenters=true, not its default.
 */
import * as tf from '@tensorflow/tfjs';
import sharp, { type OutputInfo } from 'sharp';

export interface DecodeOptions {
  height: number;
  width: number;
  /** Resize images of another size instead of rejecting them. */
  resize: boolean;
}

export const RGB_CHANNELS = 3;

/** Bilinear resize of one HWC uint8 image, rounded back to uint8. */
export function resizeBilinearTorch(pixels: Uint8Array, height: number, width: number, toHeight: number, toWidth: number): Uint8Array {
  const out = tf.tidy(() => {
    const x = tf.tensor3d(Float32Array.from(pixels), [height, width, RGB_CHANNELS]);
    return tf.image.resizeBilinear(x, [toHeight, toWidth], false, true).round().clipByValue(0, 255).dataSync();
  });
  return Uint8Array.from(out);
}

/** Decodes `input` (file bytes or a path) to RGB HWC uint8 of the requested size; `name` is used in errors. */
export async function decodeImage(input: Buffer | string, name: string, opts: DecodeOptions): Promise<Uint8Array> {
  let data: Buffer;
  let info: OutputInfo;
  try {
    // Greyscale and palette images become 3-channel sRGB; an alpha channel is dropped.
    ({ data, info } = await sharp(input, { failOn: 'error' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw new Error(`${name}: not a decodable image (${(err as Error).message})`);
  }
  if (info.channels !== RGB_CHANNELS) throw new Error(`${name}: decoded to ${info.channels} channels, expected ${RGB_CHANNELS}`);
  const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (info.height === opts.height && info.width === opts.width) return pixels;
  if (!opts.resize) {
    throw new Error(`${name}: image is ${info.width}x${info.height}, expected ${opts.width}x${opts.height} (set data.resize=true to resize it bilinearly)`);
  }
  return resizeBilinearTorch(pixels, info.height, info.width, opts.height, opts.width);
}
