/**
 * A SIMULATED camera capture of a printed image (section 5.4 photographs attacked images; we
 * cannot, so we approximate the capture): per image, a random perspective warp (corner jitter),
 * zoom and rotation as one homography, then Gaussian blur, a brightness change and sensor noise.
 * Every strength is an option (params), and the transform is registered in the composable
 * transform table as `camera`. Pixels the warp pulls from outside the frame repeat the nearest
 * edge pixel, as a photo framed on its print would show, rather than black borders (black borders
 * are what ShrinkPad produces, which enhanced attacks are trained on, and would favour them).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageTransform } from '../common/types.js';
import type { Rng } from '../common/rng.js';
import { registerTransform, builtinTransforms, type TransformFactories, type TransformSpec } from './compose.js';

export interface CameraOptions {
  /** Largest displacement of each corner, as a fraction of the image side. */
  perspective: number;
  /** Zoom factor drawn uniformly in [1 - zoom, 1 + zoom] (near/far). */
  zoom: number;
  /** Largest rotation, degrees. */
  rotation: number;
  /** Largest Gaussian blur sigma, pixels (drawn uniformly in [0, blur]). */
  blur: number;
  /** Brightness factor drawn uniformly in [1 - brightness, 1 + brightness]. */
  brightness: number;
  /** Sensor noise std on the 0-255 scale. */
  noise: number;
}

export interface CameraDraw {
  /** The 8 projective coefficients mapping output pixels to input pixels (tf.image.transform's convention). */
  homography: number[];
  sigma: number;
  brightness: number;
}

const LIMITS: Record<keyof CameraOptions, [number, number]> = {
  perspective: [0, 0.3],
  zoom: [0, 0.5],
  rotation: [0, 45],
  blur: [0, 3],
  brightness: [0, 0.9],
  noise: [0, 50],
};

export function checkCameraOptions(o: CameraOptions): void {
  for (const [key, [lo, hi]] of Object.entries(LIMITS) as [keyof CameraOptions, [number, number]][]) {
    const v = o[key];
    if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw new RangeError(`camera option '${key}' must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
}

/** Solves the 8 homography coefficients sending each `from` point to its `to` point (direct linear transform). */
export function homographyFromPoints(from: [number, number][], to: [number, number][]): number[] {
  if (from.length !== 4 || to.length !== 4) throw new RangeError('homography needs exactly 4 point pairs');
  const a: number[][] = [];
  from.forEach(([x, y], i) => {
    const [u, v] = to[i];
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  });
  // Gaussian elimination with partial pivoting on the 8x9 augmented matrix.
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let r = col + 1; r < 8; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    if (Math.abs(a[pivot][col]) < 1e-12) throw new Error('homography: degenerate points');
    [a[col], a[pivot]] = [a[pivot], a[col]];
    for (let r = 0; r < 8; r++) {
      if (r === col) continue;
      const f = a[r][col] / a[col][col];
      for (let k = col; k < 9; k++) a[r][k] -= f * a[col][k];
    }
  }
  return a.map((row, i) => row[8] / row[i]);
}

export function drawCamera(o: CameraOptions, height: number, width: number, rng: Rng): CameraDraw {
  const cx = (width - 1) / 2, cy = (height - 1) / 2;
  const zoom = rng.range(1 - o.zoom, 1 + o.zoom);
  const angle = (rng.range(-o.rotation, o.rotation) * Math.PI) / 180;
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const corners: [number, number][] = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]];
  // Where each output corner reads from in the printed image: rotated, zoomed, then jittered.
  const sources = corners.map(([x, y]): [number, number] => {
    const dx = (x - cx) / zoom, dy = (y - cy) / zoom;
    return [cx + cos * dx - sin * dy + rng.range(-1, 1) * o.perspective * width, cy + sin * dx + cos * dy + rng.range(-1, 1) * o.perspective * height];
  });
  return { homography: homographyFromPoints(corners, sources), sigma: rng.range(0, o.blur), brightness: rng.range(1 - o.brightness, 1 + o.brightness) };
}

function gaussianKernel(sigma: number, channels: number): tf.Tensor4D {
  const radius = Math.max(1, Math.ceil(2 * sigma));
  const taps = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = taps.reduce((p, q) => p + q, 0);
  const k1 = taps.map((t) => t / sum);
  return tf.tidy(() => {
    const k2 = tf.outerProduct(tf.tensor1d(k1), tf.tensor1d(k1));
    return tf.tile(tf.reshape(k2, [k1.length, k1.length, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
  });
}

/** Below this sigma a blur changes pixels by less than rounding: skipped. */
const MIN_SIGMA = 0.2;

export function applyCamera(x: tf.Tensor4D, draws: CameraDraw[], noiseStd255: number, rng: Rng): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (draws.length !== n) throw new RangeError(`camera: ${draws.length} draws for a batch of ${n} images`);
  const noise = Float32Array.from({ length: n * h * w * c }, () => (noiseStd255 / 255) * rng.normal());
  return tf.tidy(() => {
    // One image at a time: tfjs 4.22's cpu Transform kernel fills every image after the first with zeros.
    const images = tf.unstack(x).map((img, i) => {
      const d = draws[i];
      const warped = tf.image.transform(tf.expandDims(img, 0) as tf.Tensor4D, tf.tensor2d([d.homography], [1, 8]), 'bilinear', 'nearest');
      const one = tf.squeeze(warped, [0]) as tf.Tensor3D;
      const blurred = d.sigma < MIN_SIGMA ? one : (tf.depthwiseConv2d(one, gaussianKernel(d.sigma, c), 1, 'same') as tf.Tensor3D);
      return tf.mul(blurred, d.brightness);
    });
    const out = tf.add(tf.stack(images), tf.tensor4d(noise, [n, h, w, c]));
    return tf.clipByValue(out, 0, 1) as tf.Tensor4D;
  });
}

export function cameraTransform(o: CameraOptions): ImageTransform {
  checkCameraOptions(o);
  return (x, rng) => {
    const [n, h, w] = x.shape;
    const draws = Array.from({ length: n }, () => drawCamera(o, h, w, rng));
    return applyCamera(x, draws, o.noise, rng);
  };
}

const CAMERA_KEYS: (keyof CameraOptions)[] = ['perspective', 'zoom', 'rotation', 'blur', 'brightness', 'noise'];

export function cameraFromSpec(spec: TransformSpec): ImageTransform {
  const extra = Object.keys(spec).filter((k) => k !== 'type' && !CAMERA_KEYS.includes(k as keyof CameraOptions));
  if (extra.length) throw new TypeError(`transform 'camera': unknown option(s) ${extra.join(', ')} (allowed: ${CAMERA_KEYS.join(', ')})`);
  const missing = CAMERA_KEYS.filter((k) => !(k in spec));
  if (missing.length) throw new TypeError(`transform 'camera': missing option(s) ${missing.join(', ')}`);
  return cameraTransform(Object.fromEntries(CAMERA_KEYS.map((k) => [k, spec[k]])) as unknown as CameraOptions);
}

/** The built-in transforms plus `camera`. */
export function withCamera(base: TransformFactories = builtinTransforms): TransformFactories {
  return registerTransform('camera', cameraFromSpec, base);
}
