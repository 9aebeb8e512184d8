// Differential test: Tidemark's route matching against the real Alertmanager (`amtool config routes test`
// from Debian's prometheus-alertmanager package). Random route trees and label sets from fast-check; the
// same YAML file is given to both, and the matched receivers (in order) must be identical.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@tidemark/core';
import { parse, stringify } from 'yaml';
import { parseRoutingConfig } from './config.js';
import { match } from './route.js';

function findAmtool(): string | undefined {
  const r = spawnSync('amtool', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? 'amtool' : undefined;
}

const amtool = findAmtool();
const inCi = Boolean(process.env.CI);
if (!amtool && inCi) {
  throw new Error(
    'amtool is missing in CI: .ci/run must install Debian package prometheus-alertmanager',
  );
}

const NAMES = ['a', 'b', 'c', 'system'] as const;
const LABEL_VALUES = ['x', 'y', 'X', 'xx', 'x,y', 'q"z', 'back\\slash', ''] as const;
const EQ_VALUES = ['x', 'y', 'X', 'xx', 'x,y', 'q"z', ''] as const;
const RE_VALUES = [
  'x',
  'x|y',
  '.*',
  '.+',
  'x.*',
  '(?i)X',
  '[xy]',
  'x+',
  'x,y',
  '',
  'y|',
  'back\\\\slash',
] as const;

// A matcher as Alertmanager's matcher-string syntax, quoted (with OpenMetrics escapes) or bare.
const quote = (v: string): string => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const matcherArb = fc
  .tuple(fc.constantFrom(...NAMES), fc.constantFrom('=', '!=', '=~', '!~'), fc.boolean(), fc.nat())
  .map(([name, op, quoted, i]) => {
    const values: readonly string[] = op === '=' || op === '!=' ? EQ_VALUES : RE_VALUES;
    const v = values[i % values.length] as string;
    // Bare values must not hold characters the parser treats specially (comma, quote, backslash, spaces).
    const bare = /^[A-Za-z0-9.*+|()?[\]]*$/.test(v) && v !== '';
    return `${name}${op}${quoted || !bare ? quote(v) : v}`;
  });

interface TreeNode {
  receiver?: string;
  matchers?: string[];
  match?: Record<string, string>;
  match_re?: Record<string, string>;
  continue?: boolean;
  routes?: TreeNode[];
}

const nodeArb: fc.Memo<TreeNode> = fc.memo((depth) =>
  fc
    .record(
      {
        hasReceiver: fc.boolean(),
        matchers: fc.array(matcherArb, { maxLength: 3 }),
        oneLine: fc.boolean(),
        legacy: fc.option(
          fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...EQ_VALUES), fc.boolean()),
          {
            freq: 5,
          },
        ),
        cont: fc.boolean(),
        routes:
          depth <= 1 ? fc.constant<TreeNode[]>([]) : fc.array(nodeArb(depth - 1), { maxLength: 3 }),
      },
      { requiredKeys: ['hasReceiver', 'matchers', 'oneLine', 'cont', 'routes'] },
    )
    .map(({ hasReceiver, matchers, oneLine, legacy, cont, routes }) => {
      const node: TreeNode = { receiver: hasReceiver ? 'set' : undefined };
      if (matchers.length > 0) node.matchers = oneLine ? [matchers.join(', ')] : matchers;
      if (legacy) {
        const [name, value, isRe] = legacy;
        if (isRe) node.match_re = { [name]: value === '' ? 'x|' : value.replace(/[\\"]/g, '') };
        else node.match = { [name]: value };
      }
      if (cont) node.continue = true;
      if (routes.length > 0) node.routes = [...routes];
      return node;
    }),
);

// Receivers get distinct names in tree order so each match names the node it came from.
function nameReceivers(root: TreeNode): string[] {
  const names: string[] = [];
  const visit = (n: TreeNode, isRoot: boolean): void => {
    if (isRoot || n.receiver !== undefined) {
      n.receiver = `r${names.length}`;
      names.push(n.receiver);
    } else {
      delete n.receiver;
    }
    for (const c of n.routes ?? []) visit(c, false);
  };
  visit(root, true);
  return names;
}

const labelSetArb = fc.dictionary(fc.constantFrom(...NAMES), fc.constantFrom(...LABEL_VALUES), {
  maxKeys: 4,
});

const dir = mkdtempSync(join(tmpdir(), 'tidemark-amtool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REJECTED = ['<config rejected>'];

function amtoolReceivers(file: string, labels: Record<string, string>): string[] {
  const args = Object.entries(labels).map(([k, v]) => `${k}=${quote(v)}`);
  const r = spawnSync(
    amtool as string,
    ['config', 'routes', 'test', `--config.file=${file}`, ...args],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) {
    // amtool exits non-zero only when it cannot load the config (labels are always valid here).
    if (/error/i.test(r.stderr)) return REJECTED;
    throw new Error(`amtool failed: ${r.stderr}`);
  }
  const line = r.stdout.trim();
  return line === '' ? [] : line.split(',');
}

function tidemarkReceivers(text: string, file: string, labels: Record<string, string>): string[] {
  let config;
  try {
    config = parseRoutingConfig(text, file, { partitionLabel: null });
  } catch (error) {
    if (error instanceof ConfigError) return REJECTED;
    throw error;
  }
  return match(config.route, labels).map((r) => r.receiver);
}

describe.skipIf(!amtool)('route matching vs amtool (Alertmanager 0.25)', () => {
  if (!amtool) {
    console.warn(
      'amtool not installed: skipping the Alertmanager differential test (apt-get install prometheus-alertmanager)',
    );
  }

  it('matches the same receivers, in the same order, for random trees and label sets', () => {
    let run = 0;
    let compared = 0;
    let rejected = 0;
    fc.assert(
      fc.property(
        nodeArb(3),
        fc.array(labelSetArb, { minLength: 1, maxLength: 4 }),
        (tree, labelSets) => {
          const root: TreeNode = { ...structuredClone(tree) };
          delete root.matchers;
          delete root.match;
          delete root.match_re;
          // Keep a root `continue` now and then: Alertmanager rejects it, so must Tidemark.
          if (run % 10 !== 0) delete root.continue;
          const receivers = nameReceivers(root);
          const text = stringify({ route: root, receivers: receivers.map((name) => ({ name })) });
          const file = join(dir, `conf-${run++}.yml`);
          writeFileSync(file, text);
          for (const labels of labelSets) {
            const ours = tidemarkReceivers(text, file, labels);
            if (ours === REJECTED) rejected++;
            expect(ours, `${text}\nlabels ${JSON.stringify(labels)}`).toEqual(
              amtoolReceivers(file, labels),
            );
            compared++;
          }
        },
      ),
      { numRuns: 100 },
    );
    expect(compared).toBeGreaterThanOrEqual(100);
    // Most generated configs are valid; the comparison is about matching, not only about rejection.
    expect(rejected).toBeLessThan(compared / 2);
  }, 60_000);
});

describe.skipIf(!amtool)('contracts/routing.yaml vs amtool', () => {
  // Alertmanager receivers are integrations, so Tidemark's kind/queue/period/sla are dropped for amtool; so are
  // inhibit rule names, which Alertmanager only accepts from a later version than Debian's 0.25.
  const text = readFileSync(new URL('../../../contracts/routing.yaml', import.meta.url), 'utf8');
  const doc = parse(text) as {
    receivers: Array<Record<string, unknown>>;
    inhibit_rules: Array<Record<string, unknown>>;
  };
  const amText = stringify({
    ...doc,
    receivers: doc.receivers.map((r) => ({ name: r.name })),
    inhibit_rules: doc.inhibit_rules.map(({ name: _name, ...rule }) => rule),
  });
  const file = join(dir, 'shipped.yml');
  writeFileSync(file, amText);
  const config = parseRoutingConfig(text, 'contracts/routing.yaml');

  it('is a valid Alertmanager config', () => {
    const r = spawnSync(amtool as string, ['check-config', file], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it.each<Record<string, string>>([
    { check: 'freshness.review-overdue', severity: 'warning', system: 'policies' },
    { check: 'contract.required', severity: 'critical', system: 'policies' },
    { check: 'freshness.sync-lag', severity: 'critical', system: 'wiki', connector: 'c1' },
    { check: 'parity.orphan', severity: 'high', system: 'wiki' },
    { check: 'drift.numeric', severity: 'warning', system: 'crm' },
    { check: 'routing.unowned', severity: 'warning', system: 'crm' },
    { check: 'routing.silence-expiring', severity: 'critical', system: '*' },
  ])('routes %j like Alertmanager', (labels) => {
    expect(match(config.route, labels).map((r) => r.receiver)).toEqual(
      amtoolReceivers(file, labels),
    );
  });
});
