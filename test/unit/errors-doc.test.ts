// test/unit/errors-doc.test.ts
// Every error code in receiver/src/errors.ts is documented in docs/errors.md, and nothing documented is gone.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import * as errors from '../../receiver/src/errors.js';
import { PROJECT_ROOT } from '../helpers/agent.js';

test('docs/errors.md lists exactly the codes the error classes carry', (t) => {
  const codes = new Set<string>();
  for (const value of Object.values(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof Error || value === errors.ExecscopeError)) continue;
    const ctor = value as unknown as new (...args: unknown[]) => errors.ExecscopeError;
    const instance = new ctor('probe', 0, 'probe', '');
    codes.add(instance.code);
  }
  const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1] as string));
  t.deepEqual([...codes].sort(), [...documented].sort());
});
