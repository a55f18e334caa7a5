/**
 * One instance per paper table (`table:<id>`): reads the evaluate instances the table needs, for
 * every replicate seed, and writes table.csv and table.md (ours as the mean over seeds with its
 * min–max, beside the paper's), table-seeds.csv (every seed's value), entry.json and facts.json
 * (each seed's facts under its `seed{N}/` prefix, for the claims).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { archSpecs, profileName, reportParams, type ArchSpec, type ReportParams } from '../domain/analyses/params.js';
import { readEvalMetrics } from '../domain/analyses/inputs.js';
import { readDatasetInfo } from '../domain/data/format.js';
import { table1, table2, table3, table4, table5, table6, tableNeeds, type TableContext, type TableMetrics, type BuiltTable } from '../domain/report/paper-tables.js';
import { readDetection } from '../domain/report/detection.js';
import { toCsv, toMarkdown, toSeedCsv } from '../domain/report/tables.js';
import { meanOfMetrics, withSeedSpread } from '../domain/report/seed-tables.js';
import type { Facts } from '../domain/report/facts.js';
import { prefixFacts, replicateSeeds } from './replicates.js';
import { writeEntry, provenanceOf } from '../domain/report/entry.js';
import { defenseSecondsFromMeta, upstreamWallSeconds } from '../domain/report/costs.js';

import { evaluatedIds, defenseInstanceId, autoencoderInstance } from './availability.js';
import { dataId, tableAlias, tableId, trainId } from './ids.js';

export const TABLE_IDS = ['table1', 'table2', 'table3', 'table4', 'table5', 'table6'] as const;

export interface TableStageParams extends JsonObject {
  table: string;
  profile: string;
  seeds: number[];
  archs: JsonObject[];
  attacks: string[];
  defenseIds: JsonObject;
  noiseStds: number[];
  jitterSizes: number[];
}

const depName = (arch: string, attack: string, variant: string, defense: string, seed: number): string => `ev:${arch}:${attack}:${variant}:${defense}:${seed}`;
const aeDep = (seed: number): string => `autoencoder:${seed}`;

function context(p: { archs: ArchSpec[]; attacks: string[]; defenseIds: ReportParams['defenseIds']; table: string }): Omit<TableContext, 'lookup'> {
  // Table 6 is about the universal-perturbation trigger only; the others about the listed attacks.
  return { archs: p.archs, attacks: p.table === 'table6' ? ['uap'] : p.attacks, defenseIds: p.defenseIds };
}

export function instancesGiven(params: JsonObject, evaluated: Set<string>): StageInstance<TableStageParams>[] {
  const r = reportParams(params);
  const seeds = replicateSeeds(params);
  const archs = archSpecs(params);
  return r.tables.map((table) => {
    if (!(TABLE_IDS as readonly string[]).includes(table)) throw new RangeError(`report.tables: unknown table '${table}' (known: ${TABLE_IDS.join(', ')})`);
    const ctx = context({ archs, attacks: r.attacks, defenseIds: r.defenseIds, table });
    const deps: Record<string, string> = { data: dataId() };
    // Only evaluations the params produce: a missing one is a cell saying "not run in this profile".
    for (const seed of seeds) {
      for (const n of tableNeeds(table, ctx, r.noiseStds, r.jitterSizes)) {
        const id = defenseInstanceId(trainId(n.arch, n.attack, n.variant, seed), n.defense);
        if (evaluated.has(id)) deps[depName(n.arch, n.attack, n.variant, n.defense, seed)] = id;
      }
      if (table === 'table5' && Object.keys(deps).some((d) => d.endsWith(`:${r.defenseIds['auto-encoder']}:${seed}`))) deps[aeDep(seed)] = autoencoderInstance(seed);
    }
    return {
      id: tableId(table),
      aliases: [tableAlias(table)],
      params: { table, profile: profileName(params), seeds, archs: archs as unknown as JsonObject[], attacks: r.attacks, defenseIds: r.defenseIds as unknown as JsonObject, noiseStds: r.noiseStds, jitterSizes: r.jitterSizes },
      deps,
      description: `table ${table}`,
    };
  });
}

const kind: StageKind<TableStageParams> = {
  kind: 'table',
  instances: (params: JsonObject) => instancesGiven(params, evaluatedIds(params)),
  async run(ctx: StageContext<TableStageParams>): Promise<void> {
    const p = ctx.params;
    const defenseIds = p.defenseIds as Record<string, string>;
    // Metrics per seed, keyed by the single-seed dep name. Results come from the files; costs (Table 5) only from meta.json.
    const perSeed = new Map<number, Map<string, TableMetrics>>(p.seeds.map((s) => [s, new Map()]));
    for (const [name, u] of Object.entries(ctx.inputs)) {
      if (!name.startsWith('ev:')) continue;
      const [, arch, attack, variant, defense, seedText] = name.split(':');
      const m: TableMetrics = { ...(await readEvalMetrics(u.dir)), detection: await readDetection(u.dir) };
      m.defenseSeconds = p.table === 'table5' ? defenseSecondsFromMeta(u.meta.extra, u.id) : undefined;
      perSeed.get(Number(seedText))!.set([arch, attack, variant, defense].join(':'), m);
    }
    // The auto-encoder's cost is its training (its own artifact, one per seed) plus its per-image overhead.
    for (const seed of p.seeds) {
      const ae = ctx.inputs[aeDep(seed)];
      const aeTraining = ae ? defenseSecondsFromMeta(ae.meta.extra, ae.id) : undefined;
      if (aeTraining === undefined) continue;
      for (const [name, m] of perSeed.get(seed)!) if (name.endsWith(`:${defenseIds['auto-encoder']}`)) m.defenseSeconds = (m.defenseSeconds ?? 0) + aeTraining;
    }
    const base = context({ archs: p.archs as unknown as ArchSpec[], attacks: p.attacks, defenseIds: p.defenseIds as unknown as ReportParams['defenseIds'], table: p.table });
    const key = (arch: string, attack: string, variant: string, defense: string) => [arch, attack, variant, defense].join(':');
    const build = (tctx: TableContext): BuiltTable => {
      const builders: Record<string, () => BuiltTable> = {
        table1: () => table1(tctx),
        table2: () => table2(tctx),
        table3: () => table3(tctx, p.noiseStds),
        table4: () => table4(tctx, p.jitterSizes),
        table5: () => table5(tctx),
        table6: () => table6(tctx),
      };
      return builders[p.table]();
    };
    // Each seed on its own (its facts, its cells), then the mean over seeds (layout and comparison lines).
    const seedBuilds = p.seeds.map((seed) => ({ seed, built: build({ ...base, lookup: (...k) => perSeed.get(seed)!.get(key(...k)) }) }));
    const averaged = build({ ...base, lookup: (...k) => meanOfMetrics(p.seeds.map((s) => perSeed.get(s)!.get(key(...k)))) });
    const table = withSeedSpread(averaged.table, seedBuilds.map(({ seed, built }) => ({ seed, table: built.table })));
    const facts: Facts = Object.assign({}, ...seedBuilds.map(({ seed, built }) => prefixFacts(seed, built.facts)));
    const several = p.seeds.length > 1;
    const lines = [
      ...(several ? [`our values are the mean over seeds ${p.seeds.join(', ')} (n=${p.seeds.length} unless a cell says otherwise), with the min–max over seeds in brackets`] : []),
      ...averaged.lines,
      ...seedBuilds.flatMap(({ seed, built }) => (built.detections ?? []).map((l) => (several ? `seed ${seed}: ${l}` : l))),
    ];
    const markdown = toMarkdown(table);
    await fs.writeFile(join(ctx.outDir, 'table.csv'), toCsv(table));
    await fs.writeFile(join(ctx.outDir, 'table-seeds.csv'), toSeedCsv(seedBuilds.map(({ seed, built }) => ({ seed, table: built.table }))));
    await fs.writeFile(join(ctx.outDir, 'table.md'), markdown);
    const info = await readDatasetInfo(ctx.inputs.data.dir);
    const upstream = Object.entries(ctx.inputs).filter(([n]) => n.startsWith('ev:')).map(([, u]) => u);
    await writeEntry(
      ctx.outDir,
      {
        kind: 'table',
        id: p.table,
        title: table.title,
        caption: table.caption,
        paper: `${p.table.replace('table', 'Table ')} of the paper: its values are in parentheses beside ours`,
        csv: 'table.csv',
        markdown,
        lines,
        provenance: provenanceOf(p.profile, p.seeds, { name: info.name, synthetic: info.synthetic, test: info.counts.test?.total ?? 0 }, upstream.map((u) => ({ environment: u.meta.environment as Record<string, unknown> }))),
      },
      facts,
    );
    // A measurement, so meta.json and not entry.json: the report reads it there for its "wall time" line.
    ctx.recordMeta({ upstreamWallSeconds: upstreamWallSeconds(upstream.map((u) => u.meta.durationMs)) });
  },
};

export default kind;
