/**
 * Re-executes a layers model's graph on concrete tensors, so that analyses
 * can read or replace any layer's output: Fine-Pruning masks channels of the
 * feature layer, CDRP multiplies per-channel gates into every gate layer.
 * Works for Sequential and functional models (skip connections included) by
 * walking model.layers (already in topological order) and each layer's
 * inbound nodes whose inputs are available; everything is ordinary tfjs ops,
 * so it is differentiable inside tf.grad / tf.variableGrads. A nested model
 * used as a layer runs as one unit: hooks cannot reach inside it.
 */
import * as tf from '@tensorflow/tfjs';

export type Hook = (output: tf.Tensor) => tf.Tensor;

export interface GraphOptions {
  /** Batch norm uses batch statistics (and updates its moving averages) when true. Default false. */
  training?: boolean;
}

/** The shape of `applyWithHooks`, for analyses and defenses that take it as a parameter (tests pass simpler runners). */
export type HookRunner = (model: tf.LayersModel, x: tf.Tensor, hooks: Record<string, Hook>, opts?: GraphOptions) => tf.Tensor;

export interface ActivationOptions extends GraphOptions {
  hooks?: Record<string, Hook>;
}

function checkNames(model: tf.LayersModel, names: string[], what: string): void {
  const known = new Set(model.layers.map((l) => l.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new Error(`${what} name(s) ${unknown.map((n) => `'${n}'`).join(', ')} not in model '${model.name}'; its layers: ${[...known].join(', ')}`);
  }
}

/**
 * Runs the graph; returns the values of the requested symbolic tensors once
 * they are all computed (so a request for an early layer stops early).
 * Must be called inside tf.tidy: intermediate tensors are left to it.
 */
function execute(
  model: tf.LayersModel,
  x: tf.Tensor,
  hooks: Record<string, Hook>,
  training: boolean,
  wantedLayers: string[] | null,
): { output: tf.Tensor | null; layerOutputs: Record<string, tf.Tensor> } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(`applyWithHooks handles single-input single-output models; '${model.name}' has ${model.inputs.length} inputs and ${model.outputs.length} outputs`);
  }
  // The input layer has no node to execute: its hook, if any, applies to x itself.
  const inputLayer = model.inputs[0].sourceLayer.name;
  const input = hooks[inputLayer] ? hooks[inputLayer](x) : x;
  const values = new Map<number, tf.Tensor>([[model.inputs[0].id, input]]);
  const layerOutputs: Record<string, tf.Tensor> = {};
  const pending = new Set(wantedLayers ?? []);
  if (pending.delete(inputLayer)) layerOutputs[inputLayer] = input;
  for (const layer of model.layers) {
    for (const node of layer.inboundNodes) {
      if (node.outputTensors.every((t) => values.has(t.id))) continue;
      const inputs = node.inputTensors.map((t) => values.get(t.id));
      // A node of another model sharing this layer: its inputs are not ours.
      if (inputs.length === 0 || inputs.some((t) => t === undefined)) continue;
      const raw = layer.apply(inputs.length === 1 ? inputs[0]! : (inputs as tf.Tensor[]), { ...node.callArgs, training });
      let outputs = (Array.isArray(raw) ? raw : [raw]) as tf.Tensor[];
      const hook = hooks[layer.name];
      if (hook) {
        if (outputs.length !== 1) throw new Error(`cannot hook layer '${layer.name}': it has ${outputs.length} outputs`);
        const hooked = hook(outputs[0]);
        if (!tf.util.arraysEqual(hooked.shape, outputs[0].shape)) {
          throw new Error(`hook on '${layer.name}' changed its output shape from [${outputs[0].shape}] to [${hooked.shape}]`);
        }
        outputs = [hooked];
      }
      node.outputTensors.forEach((t, i) => values.set(t.id, outputs[i]));
      if (pending.delete(layer.name)) layerOutputs[layer.name] = outputs[0];
    }
    if (wantedLayers && pending.size === 0) return { output: null, layerOutputs };
  }
  const output = values.get(model.outputs[0].id);
  if (!output) throw new Error(`model '${model.name}': its output was never computed (disconnected graph?)`);
  return { output, layerOutputs };
}

/** The model's output with each hooked layer's output replaced by hook(output). */
export function applyWithHooks(
  model: tf.LayersModel,
  x: tf.Tensor,
  hooks: Record<string, Hook>,
  opts: GraphOptions = {},
): tf.Tensor {
  checkNames(model, Object.keys(hooks), 'hook');
  return tf.tidy(() => execute(model, x, hooks, opts.training ?? false, null).output!);
}

/** The outputs of the named layers (after any hooks), keyed by layer name; the caller disposes them. */
export function activations(
  model: tf.LayersModel,
  x: tf.Tensor,
  layerNames: string[],
  opts: ActivationOptions = {},
): Record<string, tf.Tensor> {
  const hooks = opts.hooks ?? {};
  checkNames(model, layerNames, 'activation layer');
  checkNames(model, Object.keys(hooks), 'hook');
  if (layerNames.length === 0) return {};
  return tf.tidy(() => execute(model, x, hooks, opts.training ?? false, layerNames).layerOutputs);
}
