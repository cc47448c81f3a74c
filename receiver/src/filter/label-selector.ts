// receiver/src/filter/label-selector.ts
// Kubernetes label selectors ("app=x,tier in (a,b),!canary"), parsed and matched as apimachinery does.

import { FilterError } from '../errors.js';

type Operator = 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

interface Requirement {
  readonly key: string;
  readonly op: Operator;
  readonly values: readonly string[];
}

/** A parsed selector; every requirement must hold. */
export interface LabelSelector {
  readonly source: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
}

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validateKey(key: string, selector: string): void {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const bad = (why: string): never => {
    throw new FilterError(`invalid label selector ${JSON.stringify(selector)}: key ${JSON.stringify(key)} ${why}`);
  };
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) bad('has an invalid prefix (must be a DNS subdomain)');
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) bad('is not a valid label name (alphanumerics, "-", "_", "." and at most 63 characters)');
}

function validateValue(value: string, selector: string): void {
  if (value.length > 63 || (value !== '' && !NAME.test(value))) {
    throw new FilterError(`invalid label selector ${JSON.stringify(selector)}: value ${JSON.stringify(value)} is not a valid label value`);
  }
}

type Token = { readonly kind: 'id'; readonly text: string } | { readonly kind: 'op'; readonly text: string };

const OPERATORS = ['==', '!=', '=', '!', '(', ')', ',', '>', '<'];

function tokenize(selector: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < selector.length) {
    const c = selector[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => selector.startsWith(o, i));
    if (op !== undefined) {
      tokens.push({ kind: 'op', text: op });
      i += op.length;
      continue;
    }
    let j = i;
    while (j < selector.length && !/\s/.test(selector[j] ?? '') && !'=!(),<>'.includes(selector[j] ?? '')) j++;
    tokens.push({ kind: 'id', text: selector.slice(i, j) });
    i = j;
  }
  return tokens;
}

/** Parses one selector string. Throws FilterError with the selector and what is wrong. */
export function parseLabelSelector(selector: string): LabelSelector {
  const tokens = tokenize(selector);
  const requirements: Requirement[] = [];
  let pos = 0;
  const fail = (why: string): never => {
    throw new FilterError(`invalid label selector ${JSON.stringify(selector)}: ${why}`);
  };
  const peek = (): Token | undefined => tokens[pos];
  const next = (): Token | undefined => tokens[pos++];
  const expectId = (what: string): string => {
    const t = next();
    if (t?.kind !== 'id') return fail(`expected ${what}, found ${t === undefined ? 'end of selector' : JSON.stringify(t.text)}`);
    return t.text;
  };
  while (pos < tokens.length) {
    let negated = false;
    if (peek()?.kind === 'op' && peek()?.text === '!') {
      negated = true;
      pos++;
    }
    const key = expectId('a label key');
    validateKey(key, selector);
    const t = peek();
    if (negated) {
      requirements.push({ key, op: '!', values: [] });
    } else if (t === undefined || (t.kind === 'op' && t.text === ',')) {
      requirements.push({ key, op: 'exists', values: [] });
    } else if (t.kind === 'op' && (t.text === '=' || t.text === '==' || t.text === '!=')) {
      pos++;
      // A missing value means the empty value ("app=" selects app="").
      const v = peek()?.kind === 'id' ? expectId('a value') : '';
      validateValue(v, selector);
      requirements.push({ key, op: t.text === '!=' ? 'notin' : 'in', values: [v] });
    } else if (t.kind === 'op' && (t.text === '>' || t.text === '<')) {
      pos++;
      const v = expectId('an integer');
      if (!/^-?\d+$/.test(v)) fail(`${JSON.stringify(v)} is not an integer (needed by ${t.text})`);
      requirements.push({ key, op: t.text === '>' ? 'gt' : 'lt', values: [v] });
    } else if (t.kind === 'id' && (t.text === 'in' || t.text === 'notin')) {
      pos++;
      const open = next();
      if (open?.kind !== 'op' || open.text !== '(') fail(`expected "(" after ${t.text}`);
      const values: string[] = [];
      for (;;) {
        const v = peek()?.kind === 'id' ? expectId('a value') : '';
        validateValue(v, selector);
        values.push(v);
        const sep = next();
        if (sep?.kind === 'op' && sep.text === ')') break;
        if (sep?.kind !== 'op' || sep.text !== ',') fail(`expected "," or ")" in the ${t.text} list`);
      }
      requirements.push({ key, op: t.text, values });
    } else {
      fail(`unexpected ${JSON.stringify(t.text)} after key ${JSON.stringify(key)}`);
    }
    const sep = next();
    if (sep !== undefined && !(sep.kind === 'op' && sep.text === ',')) fail(`expected "," between requirements, found ${JSON.stringify(sep.text)}`);
    if (sep !== undefined && pos >= tokens.length) fail('trailing ","');
  }
  return {
    source: selector,
    matches(labels) {
      return requirements.every((r) => {
        const has = Object.hasOwn(labels, r.key);
        const value = labels[r.key];
        switch (r.op) {
          case 'in':
            return has && value !== undefined && r.values.includes(value);
          case 'notin':
            return !has || value === undefined || !r.values.includes(value);
          case 'exists':
            return has;
          case '!':
            return !has;
          case 'gt':
          case 'lt': {
            if (!has || value === undefined || !/^-?\d+$/.test(value)) return false;
            const a = BigInt(value);
            const b = BigInt(r.values[0] ?? '0');
            return r.op === 'gt' ? a > b : a < b;
          }
        }
      });
    },
  };
}
