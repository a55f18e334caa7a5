/**
 * The report: consumes every figure and table instance, copies their files under figures/ and
 * tables/, judges the claims on each replicate seed from the facts they published and summarises
 * them over seeds, and writes REPORT.md (checked for empty cells and missing entries) and
 * metrics.json (verdicts and every fact's mean, min, max, std and n over seeds, as flat named
 * metrics). `publishReport` (domain/report/report.ts) copies it to reports/.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, StageContext, StageInstance, StageKind } from '../engine/stage.js';
import { analysesParams, profileName, reportParams } from '../domain/analyses/params.js';
import { readEntry, withWallSeconds } from '../domain/report/entry.js';
import { mergeFacts } from '../domain/report/facts.js';
import { evaluateClaims, departureNotes, departuresOf, type ClaimThresholds, type Departure } from '../domain/report/claims.js';
import { claimsOverSeeds, factsBySeed, type ClaimOverSeeds } from '../domain/report/claims-over-seeds.js';
import { statsOverSeeds } from '../domain/report/seed-stats.js';
import { replicateSeeds } from './replicates.js';
import { buildReport, lintReport, type ReportEntry } from '../domain/report/report.js';
import { figureId, tableId } from './ids.js';

export interface ReportStageParams extends JsonObject {
  title: string;
  profile: string;
  claims: JsonObject;
  /** The profile's departures from the paper (report.departures), named in the verdicts they bear on. */
  departures: JsonObject[];
  /** Replicate seeds, random-defense draws and training scale, for the top of REPORT.md. */
  scale: string[];
  figures: string[];
  tables: string[];
  notes: string[];
}

export const REPORT_ID = 'report';

/** Copies the entry's files into `<outDir>/<sub>/<id>-<name>` and rewrites its paths to match. */
async function adopt(entry: ReportEntry, fromDir: string, outDir: string): Promise<ReportEntry> {
  const sub = entry.kind === 'figure' ? 'figures' : 'tables';
  await fs.mkdir(join(outDir, sub), { recursive: true });
  const moved: ReportEntry = { ...entry };
  for (const key of ['image', 'chartImage', 'svg', 'spec', 'csv'] as const) {
    const file = entry[key];
    if (!file) continue;
    const target = `${sub}/${entry.id}-${file}`;
    await fs.copyFile(join(fromDir, file), join(outDir, target));
    moved[key] = target;
  }
  if (entry.kind === 'table') {
    const md = `${sub}/${entry.id}.md`;
    await fs.writeFile(join(outDir, md), entry.markdown ?? '');
  }
  return moved;
}

/** Each architecture's size and training schedule, so that nobody reads our numbers as the paper's scale. */
function trainingScale(params: JsonObject): string {
  const models = params.models as { architectures: string[]; width: Record<string, number> };
  const training = params.training as { recipes: Record<string, { epochs: number; lr: number; milestones: number[] }>; gamma: number };
  const data = params.data as { source: string; perClassTrain?: number | null; synthetic?: { trainPerClass: number } };
  const archs = models.architectures.map((arch) => {
    const r = training.recipes[arch];
    const width = models.width[arch];
    return `${arch}${width === undefined ? '' : ` at width ${width}`} for ${r.epochs} epochs (lr ${r.lr}, x${training.gamma} at epochs ${r.milestones.join(', ') || 'none'})`;
  });
  const images =
    data.source === 'synthetic' ? `synthetic data, ${data.synthetic?.trainPerClass} training images per class`
    : typeof data.perClassTrain === 'number' ? `${data.source}, ${data.perClassTrain} training images per class`
    : `${data.source}, every training image`;
  return `Training scale: ${archs.join('; ')}; ${images}.`;
}

/** Replicates behind every number: seeds and, for random defenses, draws. */
function replicates(params: JsonObject): string {
  const seeds = replicateSeeds(params);
  const draws = (params.defenses as { draws?: number } | undefined)?.draws ?? 1;
  const seedText = seeds.length > 1 ? `${seeds.length} replicate seeds (${seeds.join(', ')}), each with its own trainings, poisons and defenses; tables and figures show the mean with the min–max over seeds` : `1 seed (${seeds[0]}): no spread over seeds can be shown`;
  return `Replicates: ${seedText}; random test-time defenses (ShrinkPad, noise, colour jitter) evaluated over ${draws} seeded draw${draws === 1 ? '' : 's'} each.`;
}

function ourChoices(params: JsonObject): string[] {
  const a = analysesParams(params);
  return [
    ...(reportParams(params).notes ?? []),
    // Each departure from the paper once, in full; the verdicts it bears on name it in short.
    ...departureNotes(departuresOf(params)),
    `CDRP sparsity weight lambda = ${a.cdrp.lambda} (the paper's value is lost in extraction; chosen by us), ${a.cdrp.steps} Adam steps at learning rate ${a.cdrp.learningRate}, gates clipped to [0, 1], over ${a.cdrp.images} non-target test images.`,
    `Saliency: vanilla gradient of the predicted logit, max over channels, over ${a.saliency.images} non-target test images; transformed images use ShrinkPad-${a.saliency.shrinkSize}.`,
    `Physical capture is a SIMULATION (camera params ${JSON.stringify(a.physical.camera)}), ${a.physical.captures} random captures per image; the paper used photographs.`,
    `Trigger sensitivity grid: dx in [${a.sensitivity.dx.join(', ')}], dy in [${a.sensitivity.dy.join(', ')}] pixels, values [${a.sensitivity.values.join(', ')}].`,
  ];
}

const kind: StageKind<ReportStageParams> = {
  kind: 'report',
  instances(params: JsonObject): StageInstance<ReportStageParams>[] {
    const r = reportParams(params);
    const deps: Record<string, string> = {};
    for (const f of r.figures) deps[`figure:${f}`] = figureId(f);
    for (const t of r.tables) deps[`table:${t}`] = tableId(t);
    return [
      {
        id: REPORT_ID,
        aliases: ['report:md'],
        params: {
          title: r.title,
          profile: profileName(params),
          claims: r.claims as unknown as JsonObject,
          departures: departuresOf(params) as unknown as JsonObject[],
          scale: [replicates(params), trainingScale(params)],
          figures: r.figures,
          tables: r.tables,
          notes: ourChoices(params),
        },
        deps,
        description: 'REPORT.md from every figure and table',
      },
    ];
  },
  async run(ctx: StageContext<ReportStageParams>): Promise<void> {
    const p = ctx.params;
    const entries: ReportEntry[] = [];
    const facts = [];
    for (const [name, u] of Object.entries(ctx.inputs).sort(([a], [b]) => a.localeCompare(b))) {
      const { entry, facts: f } = await readEntry(u.dir);
      if (!name.endsWith(`:${entry.id}`)) throw new Error(`${u.id}: entry.json says '${entry.id}', expected the one named by '${name}'`);
      entries.push(withWallSeconds(await adopt(entry, u.dir, ctx.outDir), u.meta.extra));
      facts.push(f);
    }
    const merged = mergeFacts(facts);
    const thresholds = p.claims as unknown as ClaimThresholds;
    const departures = p.departures as unknown as Departure[];
    const bySeed = factsBySeed(merged);
    const claims = claimsOverSeeds(bySeed, (f) => evaluateClaims(f, thresholds, departures));
    const markdown = buildReport({ title: p.title, profile: p.profile, claims, thresholds, entries, notes: p.notes, scale: p.scale });
    const problems = lintReport(markdown, [...p.figures, ...p.tables]);
    if (problems.length) throw new Error(`REPORT.md failed its checks:\n${problems.join('\n')}`);
    await fs.writeFile(join(ctx.outDir, 'REPORT.md'), markdown);
    await fs.writeFile(join(ctx.outDir, 'facts.json'), JSON.stringify(merged, null, 2) + '\n');
    await fs.writeFile(join(ctx.outDir, 'claims.json'), JSON.stringify(claims, null, 2) + '\n');
    await fs.writeFile(join(ctx.outDir, 'metrics.json'), JSON.stringify(reportMetrics(claims, bySeed), null, 2) + '\n');
    ctx.recordMeta({ claims: Object.fromEntries(claims.map((c) => [String(c.id), c.status])), entries: entries.length });
  },
};

/**
 * The report's figures as flat named metrics (the engine's metrics convention): each claim's
 * verdict over seeds and its per-seed statuses, and every published fact's mean, min, max, std and
 * n over seeds. Experiments compare runs through these, never by parsing REPORT.md.
 */
function reportMetrics(claims: ClaimOverSeeds[], bySeed: Map<number, Record<string, number>>): JsonObject {
  return {
    claims: Object.fromEntries(
      claims.map((c) => [c.id, { status: c.status, verdict: c.verdict, holdingSeeds: c.holding, judgedSeeds: c.judged, seeds: Object.fromEntries(c.perSeed.map((v) => [`seed${v.seed}`, v.status])) }]),
    ),
    facts: Object.fromEntries(Object.entries(statsOverSeeds(bySeed)).map(([k, s]) => [k, { ...s }])),
  } as JsonObject;
}

export default kind;
