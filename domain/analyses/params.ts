/**
 * The params the analysis, figure, table and report stages read (params.json `analyses` and
 * `report`), typed, with the lookups of global settings they share with other areas.
 */
import type { CameraOptions } from '../transforms/camera.js';
import type { ClaimThresholds, Departure } from '../report/claims.js';

/** A model family we train, and the paper's column it stands for. */
export interface ArchSpec {
  arch: string;
  paper: 'vgg19' | 'resnet34';
}

export interface AnalysesParams {
  batchSize: number;
  /** The paper column each zoo architecture is compared with (the architectures themselves are params.models.architectures). */
  paperColumns: Record<string, ArchSpec['paper']>;
  sensitivity: { attack: string; dx: number[]; dy: number[]; values: number[]; images: number | null };
  saliency: { attacks: string[]; images: number; examples: number; shrinkSize: number };
  cdrp: { attack: string; images: number; lambda: number; steps: number; learningRate: number; shrinkSize: number; batchSize: number };
  physical: { attack: string; captures: number; examples: number; camera: CameraOptions };
  ablation: { attacks: string[]; sMax: number; sMaxList: number[]; sMaxDefense: number };
}

export interface ReportParams {
  title: string;
  /** The profile's name for provenance lines (the engine keeps profile names out of params). */
  profileLabel: string;
  figures: string[];
  tables: string[];
  attacks: string[];
  /** Our defense ids for the paper's rows (table 1, 5, 6). */
  defenseIds: Record<'standard' | 'fine-pruning' | 'neural-cleanse' | 'auto-encoder' | 'flip' | 'shrinkpad-4', string>;
  noiseStds: number[];
  jitterSizes: number[];
  claims: ClaimThresholds;
  /** Where this profile departs from the paper, in the profile's own words (REPORT.md lists them). */
  notes?: string[];
  /** Structured departures from the paper; read them with `departuresOf(params)`, which checks them and keeps those in effect. */
  departures: Departure[];
}

type Obj = Record<string, unknown>;

function section(params: Obj, key: string): Obj {
  const v = params[key];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`params.${key} must be an object, got ${JSON.stringify(v)}`);
  return v as Obj;
}

export const analysesParams = (params: Obj): AnalysesParams => section(params, 'analyses') as unknown as AnalysesParams;
export const reportParams = (params: Obj): ReportParams => section(params, 'report') as unknown as ReportParams;

/** The trained architectures (params.models.architectures, owned by the models area) with their paper column. */
export function archSpecs(params: Obj): ArchSpec[] {
  const models = params.models as Obj | undefined;
  const archs = models?.architectures;
  if (!Array.isArray(archs) || archs.some((a) => typeof a !== 'string')) throw new Error(`params.models.architectures must be a list of architecture names, got ${JSON.stringify(archs)}`);
  const columns = analysesParams(params).paperColumns;
  return (archs as string[]).map((arch) => {
    const paper = columns[arch];
    if (paper !== 'vgg19' && paper !== 'resnet34') throw new Error(`params.analyses.paperColumns has no paper column for architecture '${arch}' (known: ${Object.keys(columns).join(', ')}; allowed values: vgg19, resnet34)`);
    return { arch, paper };
  });
}

export function globalSeed(params: Obj): number {
  const s = params.seed;
  if (typeof s !== 'number' || !Number.isInteger(s)) throw new Error(`params.seed must be an integer, got ${JSON.stringify(s)}`);
  return s;
}

/** The attack's target class, owned by the attacks area (params.attacks.target), or a top-level params.target. */
export function targetClass(params: Obj): number {
  const attacks = params.attacks as Obj | undefined;
  const t = attacks?.target ?? params.target;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw new Error(`the target class (params.attacks.target or params.target) must be a class index, got ${JSON.stringify(t)}`);
  return t;
}

/** The profile's name for provenance lines: report.profileLabel, which each profile sets. */
export function profileName(params: Obj): string {
  const label = reportParams(params).profileLabel;
  if (typeof label !== 'string' || label.length === 0) throw new Error(`params.report.profileLabel must be a non-empty string, got ${JSON.stringify(label)}`);
  return label;
}
