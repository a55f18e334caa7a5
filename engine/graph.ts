/**
 * The DAG of stage instances: expanded from the params by each kind, checked
 * (duplicate ids, dangling dependencies, cycles, clashing aliases) and sorted.
 */
import { Graph, alg } from '@dagrejs/graphlib';
import { closest, distance } from 'fastest-levenshtein';
import picomatch from 'picomatch';
import { UserError } from './errors.js';
import type { Json, StageInstance } from './stage.js';

export interface DagNode {
  id: string;
  kind: string;
  /** The kind's module, relative to the root. */
  module: string;
  params: Json;
  deps: Record<string, string>;
  aliases: string[];
  description?: string;
}

export interface KindInstances {
  kind: string;
  module: string;
  instances: StageInstance[];
}

export interface Dag {
  nodes: Map<string, DagNode>;
  /** Every id, dependencies before dependents. */
  order: string[];
  /** id -> the instances that consume it. */
  successors: Map<string, string[]>;
  /** The same DAG as a graphlib graph, for graph algorithms. */
  readonly graph: Graph;
  aliases: Map<string, string>;
}

const KIND_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

function checkInstance(inst: StageInstance, kind: string, module: string): void {
  const where = `stage kind "${kind}" (${module})`;
  if (typeof inst?.id !== 'string' || inst.id === '') throw new UserError(`${where} expanded an instance without a string id: ${JSON.stringify(inst)?.slice(0, 200)}`);
  if (inst.params === undefined) throw new UserError(`${where}: instance "${inst.id}" has no params (use null or {} when it reads none)`);
  for (const [local, dep] of Object.entries(inst.deps ?? {})) {
    if (typeof dep !== 'string') throw new UserError(`${where}: instance "${inst.id}" dependency "${local}" must be an instance id string, got ${JSON.stringify(dep)}`);
  }
}

export function buildDag(kinds: KindInstances[]): Dag {
  const nodes = new Map<string, DagNode>();
  const seenKinds = new Map<string, string>();
  for (const { kind, module, instances } of kinds) {
    if (!KIND_NAME.test(kind)) throw new UserError(`${module}: kind name ${JSON.stringify(kind)} must match ${KIND_NAME} (it names a directory)`);
    const other = seenKinds.get(kind);
    if (other) throw new UserError(`two modules declare stage kind "${kind}": ${other} and ${module}`);
    seenKinds.set(kind, module);
    for (const inst of instances) {
      checkInstance(inst, kind, module);
      const prev = nodes.get(inst.id);
      if (prev) throw new UserError(`two instances have the id "${inst.id}": one of kind "${prev.kind}" (${prev.module}), one of kind "${kind}" (${module})`);
      nodes.set(inst.id, {
        id: inst.id,
        kind,
        module,
        params: inst.params,
        deps: { ...(inst.deps ?? {}) },
        aliases: [...(inst.aliases ?? [])],
        description: inst.description,
      });
    }
  }
  const ids = [...nodes.keys()];
  const successors = new Map<string, string[]>(ids.map((id) => [id, []]));
  const indegree = new Map<string, number>();
  for (const node of nodes.values()) {
    const deps = new Set(Object.values(node.deps));
    for (const dep of deps) {
      if (!nodes.has(dep)) {
        const local = Object.entries(node.deps).find(([, d]) => d === dep)![0];
        throw new UserError(`instance "${node.id}" depends on "${dep}" (as "${local}"), which no stage kind expands (closest existing id: "${closest(dep, ids)}")`);
      }
      successors.get(dep)!.push(node.id);
    }
    indegree.set(node.id, deps.size);
  }
  const aliases = new Map<string, string>();
  for (const node of nodes.values()) {
    for (const alias of node.aliases) {
      if (nodes.has(alias)) throw new UserError(`alias "${alias}" of "${node.id}" is also an instance id`);
      const prev = aliases.get(alias);
      if (prev) throw new UserError(`alias "${alias}" is claimed by both "${prev}" and "${node.id}"`);
      aliases.set(alias, node.id);
    }
  }
  // Kahn's algorithm in insertion order, so that the order is stable across runs.
  const queue = ids.filter((id) => indegree.get(id) === 0);
  for (let i = 0; i < queue.length; i++) {
    for (const next of successors.get(queue[i])!) {
      const d = indegree.get(next)! - 1;
      indegree.set(next, d);
      if (d === 0) queue.push(next);
    }
  }
  const dag = { nodes, order: queue, successors, aliases, get graph() { return toGraphlib(this); } };
  if (queue.length < ids.length) {
    const cycles = alg.findCycles(dag.graph);
    throw new UserError(`the stage graph has a cycle: ${cycles.map((c) => [...c].reverse().join(' -> ')).join('; ')}`);
  }
  return dag;
}

/** The DAG as a graphlib graph (built on demand: the hot paths use the plain adjacency lists). */
export function toGraphlib(dag: Pick<Dag, 'nodes' | 'successors'>): Graph {
  const graph = new Graph({ directed: true });
  for (const [id, node] of dag.nodes) graph.setNode(id, node);
  for (const [id, next] of dag.successors) for (const n of next) graph.setEdge(id, n);
  return graph;
}

const isGlob = (t: string): boolean => /[*?[\]{}!]/.test(t);

/** Instance ids named by targets (ids, aliases, or globs over both); all ids when none. */
export function resolveTargets(dag: Dag, targets: string[]): string[] {
  if (targets.length === 0) return [...dag.order];
  const picked = new Set<string>();
  const names = [...dag.nodes.keys(), ...dag.aliases.keys()];
  for (const t of targets) {
    if (dag.nodes.has(t)) picked.add(t);
    else if (dag.aliases.has(t)) picked.add(dag.aliases.get(t)!);
    else if (isGlob(t)) {
      const match = picomatch(t, { dot: true });
      const hits = names.filter((n) => match(n)).map((n) => dag.aliases.get(n) ?? n);
      if (hits.length === 0) throw new UserError(`target pattern "${t}" matches no instance id or alias${suggest(t, names)}`);
      hits.forEach((h) => picked.add(h));
    } else throw new UserError(`unknown target "${t}"${suggest(t, names)}`);
  }
  return dag.order.filter((id) => picked.has(id));
}

function suggest(t: string, names: string[]): string {
  if (names.length === 0) return '; the DAG is empty';
  const ranked = names
    .map((n) => ({ n, d: distance(t, n) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((r) => r.n);
  return `; closest ids: ${ranked.join(', ')}`;
}

/** The ids plus everything reachable from them through `next`, in DAG order. */
function closure(dag: Dag, ids: Iterable<string>, next: (id: string) => Iterable<string>): string[] {
  const keep = new Set<string>();
  const stack = [...ids];
  while (stack.length) {
    const id = stack.pop()!;
    if (keep.has(id)) continue;
    keep.add(id);
    stack.push(...next(id));
  }
  return dag.order.filter((id) => keep.has(id));
}

/** The ids plus all their ancestors, in DAG order. */
export const withAncestors = (dag: Dag, ids: Iterable<string>): string[] => closure(dag, ids, (id) => Object.values(dag.nodes.get(id)!.deps));

/** The ids plus all their descendants, in DAG order. */
export const withDescendants = (dag: Dag, ids: Iterable<string>): string[] => closure(dag, ids, (id) => dag.successors.get(id)!);

/**
 * For each of `ids`, the number of stages on the longest path from it to a sink of the selection
 * (a sink counts 1). The scheduler starts the deepest ready instance first, so that long chains
 * (benign model -> poisons -> poisoned models -> evaluations) are not left for last behind work
 * that nothing waits on.
 */
export function chainDepths(dag: Dag, ids: Iterable<string>): Map<string, number> {
  const selected = new Set(ids);
  const depth = new Map<string, number>();
  // dag.order puts dependencies first, so walking it backwards sees every successor before its source.
  for (let i = dag.order.length - 1; i >= 0; i--) {
    const id = dag.order[i];
    if (!selected.has(id)) continue;
    let below = 0;
    for (const next of dag.successors.get(id)!) if (selected.has(next)) below = Math.max(below, depth.get(next)!);
    depth.set(id, below + 1);
  }
  return depth;
}
