/**
 * Tables 1-6 of the paper with our numbers beside the paper's. Each builder takes a lookup of our
 * evaluation metrics and returns the table and the facts it publishes for the claims.
 */
import { text, value, type ResultTable, type Cell } from './tables.js';
import { factKey, type Facts } from './facts.js';
import { TABLE1, TABLE2, TABLE3, TABLE4, TABLE5, TABLE6, ARCH_LABEL, ATTACK_LABEL, type Arch, type PaperAttack, type Table1Defense, type ColorShift } from './paper-numbers.js';
import type { EvalMetrics } from '../analyses/inputs.js';
import type { Detection } from './detection.js';
import type { ArchSpec } from '../analyses/params.js';
import { finePruningAtPaperLoss } from './fine-pruning-lines.js';

/** An evaluation's metrics as the tables read them: a detecting defense adds what it flagged. */
export type TableMetrics = EvalMetrics & { detection?: Detection };
export type MetricsLookup = (arch: string, attack: string, variant: 'standard' | 'enhanced', defense: string) => TableMetrics | undefined;

export interface TableContext {
  archs: ArchSpec[];
  attacks: string[];
  defenseIds: Record<Table1Defense, string>;
  lookup: MetricsLookup;
}

const DEFENSE_LABEL: Record<Table1Defense, string> = {
  standard: 'Standard (no defense)',
  'fine-pruning': 'Fine-Pruning',
  'neural-cleanse': 'Neural Cleanse',
  'auto-encoder': 'Auto-Encoder',
  flip: 'Flip',
  'shrinkpad-4': 'ShrinkPad-4',
};

const archLabel = (a: ArchSpec): string => `${a.arch} (paper: ${ARCH_LABEL[a.paper]})`;
const isPaperAttack = (a: string): a is PaperAttack => a === 'badnets' || a === 'blended' || a === 'consistent';

function publish(facts: Facts, arch: string, attack: string, variant: string, defense: string, m: EvalMetrics | undefined): void {
  if (!m) return;
  facts[factKey.evalMetric(arch, attack, variant, defense, 'clean')] = m.clean;
  if (m.asr !== undefined) facts[factKey.evalMetric(arch, attack, variant, defense, 'asr')] = m.asr;
  if (m.targetRateClean !== undefined) facts[factKey.evalMetric(arch, attack, variant, defense, 'targetRateClean')] = m.targetRateClean;
}

/** For tables without a headline comparison: the range of our ASRs. */
function rangeLines(facts: Facts): string[] {
  const asr = Object.entries(facts).filter(([k]) => k.endsWith('/asr')).map(([, v]) => v);
  return asr.length ? [`our ASRs in this table range from ${Math.min(...asr).toFixed(1)}% to ${Math.max(...asr).toFixed(1)}%`] : ['no evaluation of this table ran in this profile'];
}

function baselineCell(m: EvalMetrics | undefined): Cell {
  return value(m?.targetRateClean, undefined, 'not run in this profile');
}

export interface BuiltTable {
  table: ResultTable;
  facts: Facts;
  /** One comparison line per model and claim: "X in the paper; here Y". */
  lines: string[];
  /** What a detecting defense flagged, one line per model: an event of one seed's run, never averaged. */
  detections?: string[];
}

const pctOr = (v: number | undefined): string => (v === undefined ? 'not run' : `${v.toFixed(1)}%`);

/** "Flip lowers BadNets ASR from 100% to 1.1% in the paper; here from X to Y." */
function defenseLine(defense: string, attackLabel: string, model: string, paper: { from?: number; to?: number }, ours: { from?: number; to?: number }): string {
  const paperText = paper.from !== undefined && paper.to !== undefined ? `from ${paper.from}% to ${paper.to}% in the paper` : 'not in the paper for this attack';
  return `${defense} takes ${attackLabel} ASR ${paperText}; here (${model}) from ${pctOr(ours.from)} to ${pctOr(ours.to)}`;
}

/** Neural Cleanse's mitigation is only as good as its detection: say which class it flagged. */
function detectionLine(model: string, attackLabel: string, d: Detection): string {
  const rank = d.targetNormRank === undefined ? '' : d.targetNormRank === 1 ? `; its reversed trigger was the smallest of ${d.classes}` : `; its reversed trigger ranked ${d.targetNormRank} of ${d.classes} by size`;
  const target = `target ${d.target}: anomaly index ${d.targetAnomalyIndex.toFixed(2)}${rank}`;
  const what =
    d.targetFlagged ? `flagged class ${d.flagged.join(', ')}, the target among them (${target})`
    : d.flagged.length ? `flagged class ${d.flagged.join(', ')}, not the target (${target}); its unlearning used the flagged class's reversed trigger, not the backdoor's`
    : `flagged no class (${target}), so nothing was unlearned`;
  return `Neural Cleanse on ${model} / ${attackLabel}: ${what}`;
}

export function table1(ctx: TableContext): BuiltTable {
  const facts: Facts = {};
  const rows: Record<string, Cell>[] = [];
  const lines: string[] = [];
  const detections: string[] = [];
  for (const a of ctx.archs) {
    const benign = ctx.lookup(a.arch, 'benign', 'standard', 'none');
    publish(facts, a.arch, 'benign', 'standard', 'none', benign);
    for (const attack of ctx.attacks) {
      for (const d of Object.keys(DEFENSE_LABEL) as Table1Defense[]) {
        const id = ctx.defenseIds[d];
        const m = ctx.lookup(a.arch, attack, 'standard', id);
        publish(facts, a.arch, attack, 'standard', id, m);
        const paper = isPaperAttack(attack) ? TABLE1[d][a.paper][attack] : undefined;
        rows.push({ arch: text(archLabel(a)), attack: text(ATTACK_LABEL[attack] ?? attack), defense: text(DEFENSE_LABEL[d]), clean: value(m?.clean, paper?.clean), asr: value(m?.asr, paper?.asr), base: baselineCell(m) });
      }
    }
    for (const attack of ctx.attacks) {
      const none = ctx.lookup(a.arch, attack, 'standard', ctx.defenseIds.standard)?.asr;
      for (const d of ['flip', 'shrinkpad-4'] as const) {
        const to = ctx.lookup(a.arch, attack, 'standard', ctx.defenseIds[d])?.asr;
        const paper = isPaperAttack(attack) ? { from: TABLE1.standard[a.paper][attack].asr, to: TABLE1[d][a.paper][attack].asr } : {};
        lines.push(defenseLine(DEFENSE_LABEL[d], ATTACK_LABEL[attack] ?? attack, a.arch, paper, { from: none, to }));
      }
    }
    for (const attack of ctx.attacks) {
      const det = ctx.lookup(a.arch, attack, 'standard', ctx.defenseIds['neural-cleanse'])?.detection;
      if (det) detections.push(detectionLine(a.arch, ATTACK_LABEL[attack] ?? attack, det));
    }
    rows.push({ arch: text(archLabel(a)), attack: text('none (benign model)'), defense: text(DEFENSE_LABEL.standard), clean: value(benign?.clean, undefined), asr: value(benign?.asr, undefined, 'not applicable (no trigger)'), base: baselineCell(benign) });
  }
  // Fine-Pruning's stopping rule and its ASR where it loses as much clean accuracy as the paper's own row.
  const fp = finePruningAtPaperLoss(ctx, ctx.attacks, (paper, attack) => (isPaperAttack(attack) ? TABLE1['fine-pruning'][paper][attack].asr : undefined));
  Object.assign(facts, fp.facts);
  lines.push(...fp.lines);
  return {
    table: {
      id: 'table1',
      title: 'Defenses against standard attacks',
      caption: 'Clean accuracy and ASR (%) of each attack under each defense (section 5.1), with the paper\'s value in parentheses. "Clean → target" is the share of clean non-target test images the model already sends to the target class: the baseline an ASR must be read against.',
      columns: [
        { key: 'arch', title: 'Model' },
        { key: 'attack', title: 'Attack' },
        { key: 'defense', title: 'Defense' },
        { key: 'clean', title: 'Clean acc. (%)' },
        { key: 'asr', title: 'ASR (%)' },
        { key: 'base', title: 'Clean → target (%)' },
      ],
      rows,
    },
    facts,
    lines,
    detections,
  };
}

const T2_DEFENSES = ['none', 'flip', 'shrinkpad-2', 'shrinkpad-4'] as const;
const T2_PAPER_KEY = { none: 'standard', flip: 'flip', 'shrinkpad-2': 'shrinkpad-2', 'shrinkpad-4': 'shrinkpad-4' } as const;

export function table2(ctx: TableContext): BuiltTable {
  const facts: Facts = {};
  const rows: Record<string, Cell>[] = [];
  const lines: string[] = [];
  for (const a of ctx.archs) {
    for (const attack of ctx.attacks) {
      for (const variant of ['standard', 'enhanced'] as const) {
        const row: Record<string, Cell> = { arch: text(archLabel(a)), attack: text(`${ATTACK_LABEL[attack] ?? attack}${variant === 'enhanced' ? '+' : ''}`) };
        for (const d of T2_DEFENSES) {
          const defense = d === 'none' ? ctx.defenseIds.standard : d;
          const m = ctx.lookup(a.arch, attack, variant, defense);
          publish(facts, a.arch, attack, variant, defense, m);
          const paper = isPaperAttack(attack) ? TABLE2[a.paper][attack][variant][T2_PAPER_KEY[d]] : undefined;
          row[d] = value(m?.asr, paper);
          if (d === 'none') {
            // The paper gives ASR only; clean accuracy and the clean target rate say what the ASR stands on.
            row.clean = value(m?.clean, undefined);
            row.base = baselineCell(m);
          }
          if (variant === 'enhanced' && d === 'shrinkpad-4') {
            const std = ctx.lookup(a.arch, attack, 'standard', d)?.asr;
            const paperStd = isPaperAttack(attack) ? TABLE2[a.paper][attack].standard[d] : undefined;
            lines.push(`Under ShrinkPad-4, ${ATTACK_LABEL[attack] ?? attack}+ keeps ${paper ?? 'n/a'}% ASR against ${paperStd ?? 'n/a'}% for the standard attack in the paper; here (${a.arch}) ${pctOr(m?.asr)} against ${pctOr(std)}`);
          }
        }
        rows.push(row);
      }
    }
  }
  return {
    table: {
      id: 'table2',
      title: 'Standard vs enhanced attacks under spatial-transform defenses',
      caption: 'ASR (%) of standard and enhanced (+) attacks without defense and under Flip and ShrinkPad (section 5.2), with each model\'s clean accuracy and clean → target rate without defense (not in the paper\'s table).',
      columns: [
        { key: 'arch', title: 'Model' }, { key: 'attack', title: 'Attack' }, { key: 'clean', title: 'Clean acc. (%)' },
        { key: 'none', title: 'No defense' }, { key: 'flip', title: 'Flip' }, { key: 'shrinkpad-2', title: 'ShrinkPad-2' }, { key: 'shrinkpad-4', title: 'ShrinkPad-4' },
        { key: 'base', title: 'Clean → target (%)' },
      ],
      rows,
    },
    facts,
    lines,
  };
}

/** The paper ran tables 3-4 on ResNet-34 only; we run them on the models standing for it (or all, if none does). */
function resnetArchs(archs: ArchSpec[]): ArchSpec[] {
  const r = archs.filter((a) => a.paper === 'resnet34');
  return r.length ? r : archs;
}

export function table3(ctx: TableContext, stds: number[]): BuiltTable {
  const facts: Facts = {};
  const rows: Record<string, Cell>[] = [];
  for (const a of resnetArchs(ctx.archs)) {
    for (const attack of ctx.attacks) {
      for (const std of stds) {
        const id = `noise-${std}`;
        const m = ctx.lookup(a.arch, attack, 'standard', id);
        publish(facts, a.arch, attack, 'standard', id, m);
        const paper = isPaperAttack(attack) ? (TABLE3[attack] as Record<number, { clean: number; asr: number } | undefined>)[std] : undefined;
        rows.push({ arch: text(archLabel(a)), attack: text(ATTACK_LABEL[attack] ?? attack), std: text(String(std)), clean: value(m?.clean, paper?.clean), asr: value(m?.asr, paper?.asr) });
      }
    }
  }
  return {
    table: {
      id: 'table3',
      title: 'Additive Gaussian noise as a defense',
      caption: 'Clean accuracy and ASR (%) under additive Gaussian noise with the given std on the 0-255 scale (appendix D; the paper used ResNet-34).',
      columns: [{ key: 'arch', title: 'Model' }, { key: 'attack', title: 'Attack' }, { key: 'std', title: 'Noise std (0-255)' }, { key: 'clean', title: 'Clean acc. (%)' }, { key: 'asr', title: 'ASR (%)' }],
      rows,
    },
    facts,
    lines: rangeLines(facts),
  };
}

const SHIFTS: ColorShift[] = ['hue', 'contrast', 'brightness', 'saturation'];

export function table4(ctx: TableContext, sizes: number[]): BuiltTable {
  const facts: Facts = {};
  const rows: Record<string, Cell>[] = [];
  for (const a of resnetArchs(ctx.archs)) {
    for (const shift of SHIFTS) {
      for (const attack of ctx.attacks) {
        for (const size of sizes) {
          const id = `jitter-${shift}-${size}`;
          const m = ctx.lookup(a.arch, attack, 'standard', id);
          publish(facts, a.arch, attack, 'standard', id, m);
          const paper = isPaperAttack(attack) ? TABLE4[shift][attack][String(size)] : undefined;
          rows.push({ arch: text(archLabel(a)), shift: text(shift), attack: text(ATTACK_LABEL[attack] ?? attack), size: text(String(size)), clean: value(m?.clean, paper?.clean), asr: value(m?.asr, paper?.asr) });
        }
      }
    }
  }
  return {
    table: {
      id: 'table4',
      title: 'Colour shifts as a defense',
      caption: 'Clean accuracy and ASR (%) under ColorJitter-style hue, contrast, brightness and saturation shifts of the given maximum size (appendix D).',
      columns: [{ key: 'arch', title: 'Model' }, { key: 'shift', title: 'Shift' }, { key: 'attack', title: 'Attack' }, { key: 'size', title: 'Max. size' }, { key: 'clean', title: 'Clean acc. (%)' }, { key: 'asr', title: 'ASR (%)' }],
      rows,
    },
    facts,
    lines: rangeLines(facts),
  };
}

const T5: { key: keyof typeof TABLE5; defense: Table1Defense }[] = [
  { key: 'fine-pruning', defense: 'fine-pruning' },
  { key: 'neural-cleanse', defense: 'neural-cleanse' },
  { key: 'auto-encoder', defense: 'auto-encoder' },
  { key: 'flip', defense: 'flip' },
  { key: 'shrinkpad', defense: 'shrinkpad-4' },
];

export function table5(ctx: TableContext): BuiltTable {
  const facts: Facts = {};
  const rows: Record<string, Cell>[] = [];
  for (const a of ctx.archs) {
    for (const { key, defense } of T5) {
      const id = ctx.defenseIds[defense];
      const secs = ctx.attacks.map((attack) => ctx.lookup(a.arch, attack, 'standard', id)?.defenseSeconds).filter((s): s is number => s !== undefined);
      const mean = secs.length ? secs.reduce((s, x) => s + x, 0) / secs.length : undefined;
      if (mean !== undefined) facts[factKey.cost(a.arch, id)] = mean;
      const paper = TABLE5[key][a.paper as Arch];
      rows.push({ arch: text(archLabel(a)), defense: text(DEFENSE_LABEL[defense]), cost: { ...value(mean, paper, 'not recorded in this profile', 2), paperWhy: 'not in paper' } });
    }
  }
  return {
    table: {
      id: 'table5',
      title: 'Cost of each defense',
      caption: 'Extra time each defense needs, averaged over the attacks: ours in seconds on this machine (training/optimisation for the baselines, transform overhead for Flip and ShrinkPad); the paper\'s values as printed (unit not stated in the extracted text; Auto-Encoder printed once for both models).',
      columns: [{ key: 'arch', title: 'Model' }, { key: 'defense', title: 'Defense' }, { key: 'cost', title: 'Cost (ours: s)' }],
      rows,
    },
    facts,
    lines: Object.keys(facts).length ? Object.entries(facts).map(([k, v]) => `${k.replace('cost/', '')}: ${v.toFixed(2)} s here`) : ['no defense cost was recorded in this profile'],
  };
}

export function table6(ctx: TableContext, attack = 'uap'): BuiltTable {
  const facts: Facts = {};
  const rows: Record<string, Cell>[] = [];
  for (const a of ctx.archs) {
    for (const d of Object.keys(DEFENSE_LABEL) as Table1Defense[]) {
      const id = ctx.defenseIds[d];
      const m = ctx.lookup(a.arch, attack, 'standard', id);
      publish(facts, a.arch, attack, 'standard', id, m);
      const paper = TABLE6[d][a.paper];
      rows.push({ arch: text(archLabel(a)), defense: text(DEFENSE_LABEL[d]), clean: value(m?.clean, paper.clean), asr: value(m?.asr, paper.asr), base: baselineCell(m) });
    }
  }
  const lines = rangeLines(facts);
  const fp = finePruningAtPaperLoss(ctx, [attack], (paper) => TABLE6['fine-pruning'][paper].asr);
  Object.assign(facts, fp.facts);
  return {
    table: {
      id: 'table6',
      title: 'Defenses against BadNets with a universal adversarial perturbation as trigger',
      caption: 'Clean accuracy and ASR (%) (appendix E.2).',
      columns: [{ key: 'arch', title: 'Model' }, { key: 'defense', title: 'Defense' }, { key: 'clean', title: 'Clean acc. (%)' }, { key: 'asr', title: 'ASR (%)' }, { key: 'base', title: 'Clean → target (%)' }],
      rows,
    },
    facts,
    lines: [...lines, ...fp.lines],
  };
}

/** Which (attack, variant, defense) evaluations each table reads, per architecture: the table stage's dependencies. */
export function tableNeeds(id: string, ctx: Omit<TableContext, 'lookup'>, noiseStds: number[], jitterSizes: number[]): { arch: string; attack: string; variant: 'standard' | 'enhanced'; defense: string }[] {
  const needs: { arch: string; attack: string; variant: 'standard' | 'enhanced'; defense: string }[] = [];
  const capture: MetricsLookup = (arch, attack, variant, defense) => {
    needs.push({ arch, attack, variant, defense });
    return undefined;
  };
  const full = { ...ctx, lookup: capture };
  const builders: Record<string, () => unknown> = {
    table1: () => table1(full),
    table2: () => table2(full),
    table3: () => table3(full, noiseStds),
    table4: () => table4(full, jitterSizes),
    table5: () => table5(full),
    table6: () => table6(full),
  };
  const build = builders[id];
  if (!build) throw new RangeError(`unknown table '${id}' (known: ${Object.keys(builders).join(', ')})`);
  build();
  const seen = new Set<string>();
  return needs.filter((n) => {
    const k = `${n.arch}/${n.attack}/${n.variant}/${n.defense}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
