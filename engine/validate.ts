/**
 * Validation of the effective params against params.schema.json, with one
 * message per problem naming the JSON path, the bad value and what is allowed.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { closest } from 'fastest-levenshtein';
import { UserError } from './errors.js';
import { isPlainObject, show } from './json.js';
import type { Json, JsonObject } from './stage.js';

/** ajv's class for the draft the schema declares (draft-07 when it declares none). */
async function ajvFor(schema: JsonObject): Promise<ValidateFunction> {
  const draft = typeof schema.$schema === 'string' ? schema.$schema : '';
  const options = { allErrors: true, verbose: true, strict: false } as const;
  if (draft.includes('2020-12')) {
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    return new Ajv2020(options).compile(schema);
  }
  if (draft.includes('2019-09')) {
    const { Ajv2019 } = await import('ajv/dist/2019.js');
    return new Ajv2019(options).compile(schema);
  }
  const { Ajv } = await import('ajv');
  return new Ajv(options).compile(schema);
}

/** `/training/lr/0` -> `training.lr[0]`. */
export function jsonPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);

function describeError(e: ErrorObject): string | undefined {
  const data = e.data as Json;
  const where = jsonPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
      const known = props ? Object.keys(props) : [];
      const hint = known.length ? `; known keys: ${known.join(', ')} (did you mean ${JSON.stringify(closest(key, known))}?)` : '; no keys are allowed here';
      return `${jsonPath(e.instancePath, key)}: unknown key ${JSON.stringify(key)}${hint}`;
    }
    case 'enum': {
      const allowed = (p.allowedValues as Json[]).map((v) => JSON.stringify(v));
      const strings = (p.allowedValues as Json[]).filter((v): v is string => typeof v === 'string');
      const hint = typeof data === 'string' && strings.length ? ` (did you mean ${JSON.stringify(closest(data, strings))}?)` : '';
      return `${where}: ${show(data)} is not allowed; allowed values: ${allowed.join(', ')}${hint}`;
    }
    case 'const':
      return `${where}: ${show(data)} is not allowed; the only allowed value is ${JSON.stringify(p.allowedValue)}`;
    case 'type':
      return `${where}: ${show(data)} is a${/^[aeiou]/.test(typeOf(data)) ? 'n' : ''} ${typeOf(data)}; expected ${String(p.type)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${where}: ${show(data)} is out of range; allowed: ${String(p.comparison)} ${String(p.limit)}`;
    case 'required':
      return `${jsonPath(e.instancePath, String(p.missingProperty))}: required key is missing`;
    case 'minItems':
    case 'maxItems':
    case 'minLength':
    case 'maxLength':
    case 'pattern':
    case 'multipleOf':
    case 'uniqueItems':
      return `${where}: ${show(data)} ${e.message ?? 'is invalid'}`;
    // Combinators repeat what their branches already said.
    case 'anyOf':
    case 'oneOf':
    case 'if':
      return undefined;
    default:
      return `${where}: ${show(data)} ${e.message ?? 'is invalid'}`;
  }
}

/** Throws a UserError listing every problem; `source` names where the params came from. */
export async function validateParams(params: JsonObject, schema: Json, source: string): Promise<void> {
  if (!isPlainObject(schema)) throw new UserError(`the params schema must be a JSON object, got ${show(schema)}`);
  const validate = await ajvFor(schema);
  if (validate(params)) return;
  const lines = [...new Set((validate.errors ?? []).map(describeError).filter((l): l is string => l !== undefined))];
  if (lines.length === 0) lines.push(...(validate.errors ?? []).map((e) => `${jsonPath(e.instancePath)}: ${e.message ?? 'invalid'}`));
  throw new UserError(`invalid params (${source}):\n${lines.map((l) => `  ${l}`).join('\n')}`);
}
