// test/helpers/mini-helm.ts
// Renders the small subset of Helm's Go templates our chart uses, so tests can check it without helm.
//
// Supported: {{ .Values.a.b }}, .Release.Name/Namespace, .Chart.*, $vars from range, "string" literals,
// numbers; functions quote, toYaml, nindent N, indent N, not; pipelines with |; if/else/end;
// range $k, $v := <map or list>; {{- and -}} whitespace trimming. Anything else throws, so the chart
// cannot drift into syntax these tests would silently misrender.

import yaml from 'js-yaml';

export interface RenderContext {
  readonly Values: unknown;
  readonly Release: { readonly Name: string; readonly Namespace: string };
  readonly Chart: Readonly<Record<string, unknown>>;
}

type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'expr'; readonly expr: string }
  | { readonly kind: 'if'; readonly cond: string; readonly then: Node[]; readonly otherwise: Node[] }
  | { readonly kind: 'range'; readonly keyVar: string; readonly valueVar: string; readonly over: string; readonly body: Node[] };

interface Token {
  readonly text?: string;
  readonly action?: string;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let trimNextText = false;
  while (pos < source.length) {
    const open = source.indexOf('{{', pos);
    let text = source.slice(pos, open < 0 ? source.length : open);
    if (trimNextText) text = text.replace(/^\s+/, '');
    trimNextText = false;
    if (open < 0) {
      tokens.push({ text });
      break;
    }
    const close = source.indexOf('}}', open);
    if (close < 0) throw new Error(`unclosed action at offset ${open}`);
    let inner = source.slice(open + 2, close);
    if (inner.startsWith('-')) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    if (inner.endsWith('-')) {
      trimNextText = true;
      inner = inner.slice(0, -1);
    }
    tokens.push({ text });
    tokens.push({ action: inner.trim() });
    pos = close + 2;
  }
  return tokens;
}

function parse(tokens: Token[]): Node[] {
  let i = 0;
  const block = (terminators: readonly string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const token = tokens[i++]!;
      if (token.text !== undefined) {
        if (token.text !== '') nodes.push({ kind: 'text', text: token.text });
        continue;
      }
      const action = token.action ?? '';
      if (terminators.includes(action)) return { nodes, end: action };
      if (action.startsWith('if ')) {
        const then = block(['else', 'end']);
        const otherwise = then.end === 'else' ? block(['end']).nodes : [];
        nodes.push({ kind: 'if', cond: action.slice(3).trim(), then: then.nodes, otherwise });
      } else if (action.startsWith('range ')) {
        const m = /^range\s+\$(\w+)\s*,\s*\$(\w+)\s*:=\s*(.+)$/.exec(action);
        if (m === null) throw new Error(`unsupported range: ${action}`);
        nodes.push({ kind: 'range', keyVar: m[1]!, valueVar: m[2]!, over: m[3]!.trim(), body: block(['end']).nodes });
      } else if (action === 'end' || action === 'else') {
        throw new Error(`unexpected ${action}`);
      } else if (action.startsWith('/*')) {
        // comment
      } else {
        nodes.push({ kind: 'expr', expr: action });
      }
    }
    if (terminators.length > 0) throw new Error(`missing ${terminators.join(' or ')}`);
    return { nodes, end: '' };
  };
  return block([]).nodes;
}

type Scope = Readonly<Record<string, unknown>>;

function lookup(path: string, context: RenderContext, scope: Scope): unknown {
  if (path.startsWith('$')) {
    const [name, ...rest] = path.slice(1).split('.');
    if (!Object.hasOwn(scope, name!)) throw new Error(`unknown variable $${name}`);
    return walk(scope[name!], rest);
  }
  if (!path.startsWith('.')) throw new Error(`unsupported term: ${path}`);
  const [root, ...rest] = path.slice(1).split('.');
  if (root !== 'Values' && root !== 'Release' && root !== 'Chart') throw new Error(`unsupported root: ${path}`);
  return walk(context[root], rest);
}

function walk(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function term(word: string, context: RenderContext, scope: Scope): unknown {
  if (/^"(?:[^"\\]|\\.)*"$/.test(word)) return JSON.parse(word) as string;
  if (/^-?\d+(?:\.\d+)?$/.test(word)) return Number(word);
  return lookup(word, context, scope);
}

/** Go template truthiness: false, 0, "", nil and empty collections are false. */
function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function printValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((line) => pad + line)
    .join('\n');
}

function evaluate(expr: string, context: RenderContext, scope: Scope): unknown {
  let piped: { value: unknown } | undefined;
  for (const stage of expr.split('|').map((s) => s.trim())) {
    const words = stage.split(/\s+/);
    const [head, ...rest] = words;
    const args = rest.map((w) => term(w, context, scope));
    if (piped !== undefined) args.push(piped.value);
    let value: unknown;
    switch (head) {
      case 'quote':
        value = JSON.stringify(printValue(args[0]));
        break;
      case 'toYaml':
        value = args[0] === undefined || args[0] === null ? '' : yaml.dump(args[0], { lineWidth: -1 }).replace(/\n$/, '');
        break;
      case 'nindent':
        value = `\n${indent(printValue(args[1]), Number(args[0]))}`;
        break;
      case 'indent':
        value = indent(printValue(args[1]), Number(args[0]));
        break;
      case 'not':
        value = !truthy(args[0]);
        break;
      default:
        if (head === undefined || rest.length > 0 || piped !== undefined) throw new Error(`unsupported expression: ${expr}`);
        value = term(head, context, scope);
    }
    piped = { value };
  }
  return piped?.value;
}

function renderNodes(nodes: readonly Node[], context: RenderContext, scope: Scope): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'expr':
        out += printValue(evaluate(node.expr, context, scope));
        break;
      case 'if':
        out += renderNodes(truthy(evaluate(node.cond, context, scope)) ? node.then : node.otherwise, context, scope);
        break;
      case 'range': {
        const over = evaluate(node.over, context, scope);
        const entries: [unknown, unknown][] = Array.isArray(over)
          ? over.map((v, i) => [i, v])
          : over !== null && typeof over === 'object'
            ? Object.keys(over)
                .sort()
                .map((k) => [k, (over as Record<string, unknown>)[k]])
            : [];
        for (const [key, value] of entries) {
          out += renderNodes(node.body, context, { ...scope, [node.keyVar]: key, [node.valueVar]: value });
        }
        break;
      }
    }
  }
  return out;
}

/** Renders one template file's text. */
export function renderTemplate(source: string, context: RenderContext): string {
  return renderNodes(parse(tokenize(source)), context, {});
}

/** Deep-merges overrides into chart values (maps merge, everything else replaces), as `--set`/`-f` do. */
export function mergeValues(base: unknown, overrides: unknown): unknown {
  if (base === null || typeof base !== 'object' || Array.isArray(base)) return overrides;
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) return overrides;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) out[key] = mergeValues(out[key], value);
  return out;
}
