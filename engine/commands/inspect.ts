/** Read-only commands: status, dag, params, show. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UserError } from '../errors.js';
import { describeReason } from '../fingerprint.js';
import { resolveTargets, withAncestors, type Dag } from '../graph.js';
import { plan } from '../plan.js';
import { loadProject, readParamsFile, resolveParams } from '../project.js';
import type { Command } from './command.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'say which instances are stale and why',
  usage: 'status [targets...] [--json]',
  flags: ['json'],
  async run(ctx) {
    const project = await loadProject(ctx.def, { profile: ctx.args.profile, overrides: ctx.args.set });
    const ids = withAncestors(project.dag, resolveTargets(project.dag, ctx.args.positionals));
    const items = [...plan(project, ids, new Set()).values()];
    const stale = items.filter((i) => i.state === 'stale');
    if (ctx.args.json) {
      ctx.stdout.write(`${JSON.stringify({ profile: project.profile ?? null, stale: stale.map(({ id, kind, key, reasons }) => ({ id, kind, key: key ?? null, reasons })), upToDate: items.length - stale.length }, null, 2)}\n`);
      return 0;
    }
    let damaged = 0;
    for (const i of stale) {
      const damage = i.reasons.find((r) => r.type === 'damaged');
      if (damage?.type === 'damaged') {
        // What is wrong with the files, one line each; `repro` moves the artifact aside and rebuilds it.
        damaged += 1;
        ctx.stdout.write(`damaged  ${i.id}  (artifact ${i.kind}/${damage.key.slice(0, 12)})\n`);
        for (const p of damage.problems) ctx.stdout.write(`         ${p}\n`);
        continue;
      }
      ctx.stdout.write(`stale  ${i.id}\n`);
      for (const r of i.reasons) ctx.stdout.write(`         ${describeReason(r)}\n`);
    }
    const damagedNote = damaged ? ` (${damaged} damaged: \`repro\` moves them to ${relative(ctx.def.root, join(project.store.dir, '.damaged'))}/ and rebuilds them)` : '';
    ctx.stdout.write(stale.length ? `${stale.length} stale${damagedNote}, ${items.length - stale.length} up to date\n` : `all ${items.length} instances up to date\n`);
    return 0;
  },
};

const quote = (s: string): string => JSON.stringify(s);

function textTree(dag: Dag, ids: string[]): string {
  const inSel = new Set(ids);
  const lines: string[] = [];
  const shown = new Set<string>();
  const visit = (id: string, depth: number): void => {
    const node = dag.nodes.get(id)!;
    const again = shown.has(id);
    lines.push(`${'  '.repeat(depth)}${id}${node.description ? `  — ${node.description}` : ''}${again ? '  (↑ shown above)' : ''}`);
    if (again) return;
    shown.add(id);
    for (const child of dag.successors.get(id)!) if (inSel.has(child)) visit(child, depth + 1);
  };
  for (const id of ids) {
    const deps = Object.values(dag.nodes.get(id)!.deps).filter((d) => inSel.has(d));
    if (deps.length === 0) visit(id, 0);
  }
  return `${lines.join('\n')}\n`;
}

function dot(dag: Dag, ids: string[]): string {
  const sel = new Set(ids);
  const lines = ['digraph pipeline {', '  rankdir=LR;', '  node [shape=box];'];
  for (const id of ids) lines.push(`  ${quote(id)} [label=${quote(`${id}\\n(${dag.nodes.get(id)!.kind})`)}];`);
  for (const id of ids) for (const d of Object.values(dag.nodes.get(id)!.deps)) if (sel.has(d)) lines.push(`  ${quote(d)} -> ${quote(id)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function mermaid(dag: Dag, ids: string[]): string {
  const sel = new Set(ids);
  const name = new Map(ids.map((id, i) => [id, `n${i}`]));
  const lines = ['graph LR'];
  for (const id of ids) lines.push(`  ${name.get(id)}["${id.replace(/"/g, '#quot;')}"]`);
  for (const id of ids) for (const d of Object.values(dag.nodes.get(id)!.deps)) if (sel.has(d)) lines.push(`  ${name.get(d)} --> ${name.get(id)}`);
  return `${lines.join('\n')}\n`;
}

export const dagCommand: Command = {
  name: 'dag',
  summary: 'print the DAG (text tree, or --format dot|mermaid)',
  usage: 'dag [targets...] [--format text|dot|mermaid]',
  flags: ['format'],
  async run(ctx) {
    const project = await loadProject(ctx.def, { profile: ctx.args.profile, overrides: ctx.args.set });
    const ids = withAncestors(project.dag, resolveTargets(project.dag, ctx.args.positionals));
    const format = ctx.args.format ?? 'text';
    const render = { text: textTree, dot, mermaid }[format];
    if (!render) throw new UserError(`--format ${quote(format)} is not known; allowed: text, dot, mermaid`);
    ctx.stdout.write(render(project.dag, ids));
    return 0;
  },
};

export const paramsCommand: Command = {
  name: 'params',
  summary: 'print the effective params after profile and overrides',
  usage: 'params [--json]',
  flags: ['json'],
  async run(ctx) {
    const { profile, params } = await resolveParams(ctx.def, readParamsFile(ctx.def), { profile: ctx.args.profile, overrides: ctx.args.set });
    if (!ctx.args.json) ctx.stdout.write(`# profile: ${profile ?? '(none)'}${ctx.args.set.length ? `; overrides: ${ctx.args.set.join(' ')}` : ''}\n`);
    ctx.stdout.write(`${JSON.stringify(params, null, 2)}\n`);
    return 0;
  },
};

function listFiles(dir: string): { path: string; bytes: number }[] {
  const out: { path: string; bytes: number }[] = [];
  const walk = (d: string): void => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, ent.name);
      if (ent.isDirectory()) walk(abs);
      else out.push({ path: relative(dir, abs), bytes: statSync(abs).size });
    }
  };
  walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export const showCommand: Command = {
  name: 'show',
  summary: "an instance's key, state, outputs with sizes, and meta",
  usage: 'show <id> [--json]',
  flags: ['json'],
  async run(ctx) {
    if (ctx.args.positionals.length !== 1) throw new UserError('show takes exactly one instance id or alias');
    const project = await loadProject(ctx.def, { profile: ctx.args.profile, overrides: ctx.args.set });
    const [id] = resolveTargets(project.dag, ctx.args.positionals);
    if (!id) throw new UserError(`${ctx.args.positionals[0]} names no instance`);
    const item = plan(project, withAncestors(project.dag, [id]), new Set()).get(id)!;
    const node = project.dag.nodes.get(id)!;
    // A stale instance still has its last good artifact, if the lock knows it.
    const key = item.state === 'fresh' ? item.key : project.lock.instances[id]?.key;
    const dir = key ? project.store.artifactDir(node.kind, key) : undefined;
    const meta = dir && existsSync(join(dir, 'meta.json')) ? project.store.readMeta(node.kind, key!) : undefined;
    const files = meta && dir ? listFiles(dir) : [];
    if (ctx.args.json) {
      ctx.stdout.write(`${JSON.stringify({ id, kind: node.kind, state: item.state, key: item.key ?? null, reasons: item.reasons, artifact: dir ?? null, files, meta: meta ?? null }, null, 2)}\n`);
      return 0;
    }
    const w = (s: string): void => ctx.stdout.write(`${s}\n`);
    w(`${id}  (kind ${node.kind})${node.description ? `  — ${node.description}` : ''}`);
    w(`state:  ${item.state}${item.reasons.length ? ` — ${item.reasons.map(describeReason).join('; ')}` : ''}`);
    w(`key:    ${item.key ?? '(unknown until its upstream reruns)'}`);
    if (!meta || !dir) {
      w('artifact: none yet');
      return 0;
    }
    w(`artifact: ${relative(ctx.def.root, dir)}${item.state === 'stale' ? '  (last good run, now stale)' : ''}`);
    for (const f of files) w(`  ${String(f.bytes).padStart(12)}  ${f.path}`);
    w(`meta:\n${JSON.stringify({ ...meta, fingerprint: undefined }, null, 2)}`);
    return 0;
  },
};
