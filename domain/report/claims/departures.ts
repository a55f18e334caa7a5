/**
 * Our departures from the paper, as each profile lists them in params.json `report.departures`:
 * which setting, the paper's value, ours, why, and which models or claims they touch. A verdict
 * names every departure that bears on a model it read (e.g. "does not hold (label-consistent with a
 * standard surrogate; the paper used an adversarially trained one)").
 */
import type { FactModel } from '../facts.js';

export interface DepartureScope {
  /** Attacks whose models it changes (absent: any). */
  attacks?: string[];
  /** 'standard' / 'enhanced' (absent: any). */
  variants?: string[];
  /** Defense ids as the evaluations name them ('none', 'flip', 'fine-pruning', ...) (absent: any). */
  defenses?: string[];
  architectures?: string[];
  /** Claim ids ('1' .. '7c') whose verdicts may name it (absent: any claim that reads a model in scope; [] none). */
  claims?: string[];
}

export interface Departure {
  /** Short stable name, e.g. 'lc-standard-surrogate'. */
  id: string;
  /** Dotted params paths of the settings concerned; each must exist in the params. */
  settings: string[];
  /** The paper's value or method, in words. */
  paper: string;
  /** Ours, in words. */
  ours: string;
  why: string;
  /** How a verdict names it, e.g. "label-consistent with a standard surrogate; the paper used an adversarially trained one". */
  short: string;
  affects: DepartureScope;
  /** In effect only while the params value at `setting` equals `value` (so restoring the paper's value retires the departure). */
  appliesWhile?: { setting: string; value: unknown };
}

type Obj = Record<string, unknown>;

function at(params: Obj, path: string): { found: boolean; value: unknown } {
  let node: unknown = params;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) return { found: false, value: undefined };
    node = (node as Obj)[key];
  }
  return { found: true, value: node };
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function listOf(params: Obj): Departure[] {
  const list = (params.report as Obj | undefined)?.departures ?? [];
  if (!Array.isArray(list)) throw new Error(`params.report.departures must be a list of departures, got ${JSON.stringify(list)}`);
  const seen = new Set<string>();
  for (const d of list as Departure[]) {
    if (seen.has(d.id)) throw new Error(`params.report.departures: id '${d.id}' appears twice`);
    seen.add(d.id);
  }
  return list as Departure[];
}

/**
 * The departures in effect for these params (params.report.departures): those without a
 * condition, and those whose `appliesWhile` setting has the departing value (absent setting: not in
 * effect, e.g. a profile that defines no such attack). Ids must be unique.
 */
export function departuresOf(params: Obj): Departure[] {
  return listOf(params).filter((d) => !d.appliesWhile || (at(params, d.appliesWhile.setting).found && sameJson(at(params, d.appliesWhile.setting).value, d.appliesWhile.value)));
}

/**
 * Settings named by a departure that do not exist in these (complete) params: a typo would hide or
 * misplace a departure. The profile tests run it on every profile of params.json.
 */
export function departureProblems(params: Obj): string[] {
  return listOf(params).flatMap((d) =>
    [...d.settings, ...(d.appliesWhile ? [d.appliesWhile.setting] : [])]
      .filter((path) => !at(params, path).found)
      .map((path) => `params.report.departures '${d.id}': setting '${path}' does not exist in the params (allowed: a dotted path to an existing setting, e.g. 'attacks.definitions.blended.alpha')`),
  );
}

const inList = (list: string[] | undefined, v: string | undefined): boolean => list === undefined || (v !== undefined && list.includes(v));

/** Whether a fact about `model` falls in the departure's scope. */
export function touches(d: Departure, model: FactModel): boolean {
  const a = d.affects;
  return inList(a.attacks, model.attack) && inList(a.variants, model.variant) && inList(a.defenses, model.defense) && inList(a.architectures, model.arch);
}

/** The departures that bear on a claim's verdict: allowed for the claim and touching a model it read. */
export function departuresFor(departures: Departure[], claimId: string, models: FactModel[]): Departure[] {
  return departures.filter((d) => (d.affects.claims === undefined || d.affects.claims.includes(claimId)) && models.some((m) => touches(d, m)));
}

/** One line per departure for the report's notes: setting, paper, ours, why. */
export function departureNotes(departures: Departure[]): string[] {
  return departures.map((d) => `Departure from the paper (${d.settings.join(', ')}): paper: ${d.paper}; ours: ${d.ours}. Why: ${d.why}`);
}
