/**
 * Vanilla gradient saliency (Simonyan et al. 2013; section 5.3, appendix G): the magnitude of the
 * gradient of the predicted class's score (the logit, before softmax) with respect to the input
 * pixels, maximum over colour channels.
 */
import * as tf from '@tensorflow/tfjs';

export interface SaliencyMaps {
  /** [N, H, W], non-negative, row-major. */
  maps: Float32Array;
  predicted: Int32Array;
  count: number;
  height: number;
  width: number;
}

export function vanillaSaliency(model: tf.LayersModel, x: tf.Tensor4D): SaliencyMaps {
  const [count, height, width] = x.shape;
  const predicted = tf.tidy(() => tf.argMax(model.predict(x) as tf.Tensor2D, 1).dataSync() as Int32Array);
  const maps = tf.tidy(() => {
    const selector = tf.oneHot(tf.tensor1d(predicted, 'int32'), (model.outputs[0].shape as number[])[1]);
    // The images are independent, so the gradient of the summed selected scores gives each image's own gradient.
    const score = (input: tf.Tensor): tf.Tensor => tf.sum(tf.mul(model.apply(input) as tf.Tensor2D, selector));
    const g = tf.grad(score)(x);
    return tf.max(tf.abs(g), 3).dataSync() as Float32Array;
  });
  return { maps: Float32Array.from(maps), predicted: Int32Array.from(predicted), count, height, width };
}

/** One image's map, [H, W]. */
export function mapOf(s: SaliencyMaps, index: number): Float32Array {
  if (!Number.isInteger(index) || index < 0 || index >= s.count) throw new RangeError(`saliency map index ${index} not in 0..${s.count - 1}`);
  const n = s.height * s.width;
  return s.maps.slice(index * n, (index + 1) * n);
}

/**
 * Share (0-1) of an image's saliency that falls inside `region` ([H, W], 1 = inside): how much of
 * the model's attention sits on the trigger. An all-zero map has share 0.
 */
export function massInside(map: Float32Array, region: Uint8Array): number {
  if (map.length !== region.length) throw new RangeError(`saliency map has ${map.length} pixels, region has ${region.length}`);
  let inside = 0, total = 0;
  for (let i = 0; i < map.length; i++) {
    total += map[i];
    if (region[i]) inside += map[i];
  }
  return total > 0 ? inside / total : 0;
}
