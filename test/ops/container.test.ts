// The image recipe and the laptop stack, checked without a container runtime: the Dockerfile lints
// (dockerfile-utils) and has the shape operations relies on, compose.yaml validates against the Compose
// Specification schema (vendored from compose-go), the compose Prometheus config passes promtool, and the image's
// entry point picks the service by its argument.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { promtool } from './tools.js';

const root = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const SERVICES = [
  'contract-checker',
  'freshness-monitor',
  'parity-verifier',
  'drift-detector',
  'alert-router',
];

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const instructions = DockerfileParser.parse(text).getInstructions();
  const of = (keyword: string) =>
    instructions
      .filter((i) => i.getKeyword() === keyword)
      .map((i) => i.getArgumentsContent() ?? '');

  it('lints clean, and the linter does catch mistakes', () => {
    expect(validate(text)).toEqual([]);
    expect(validate('FROM node\nUSERR node\n').map((d) => d.message)).toEqual([
      'Unknown instruction: USERR',
    ]);
  });

  it('is multi-stage, runs as the unprivileged node user and preloads the OpenTelemetry hook', () => {
    expect(of('FROM')).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS runtime']);
    expect(of('ARG')[0]).toMatch(/^NODE_IMAGE=node:22\./);
    // USER comes after the last FROM, so the runtime stage (the image) runs as node, not root.
    const lastFrom = instructions.findLastIndex((i) => i.getKeyword() === 'FROM');
    const user = instructions.findLastIndex((i) => i.getKeyword() === 'USER');
    expect(user).toBeGreaterThan(lastFrom);
    expect(of('USER')).toEqual(['node']);
    expect(JSON.parse(of('ENTRYPOINT')[0]!)).toEqual([
      'node',
      '--import',
      '@tidemark/runtime/otel',
      '/app/deploy/docker/service.mjs',
    ]);
  });
});

describe('deploy/docker/service.mjs (the image entry point)', () => {
  const run = (...args: string[]) =>
    spawnSync(
      process.execPath,
      ['--import', '@tidemark/runtime/otel', 'deploy/docker/service.mjs', ...args],
      { cwd: root, encoding: 'utf8', env: { PATH: process.env['PATH'] }, timeout: 30_000 },
    );

  it.each([[[]], [['nope']], [['../../etc/passwd']]])(
    'refuses %j with exit 2 and the list',
    (args) => {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`service is one of ${SERVICES.join(', ')}`);
    },
  );

  it('starts the named service, which then checks its configuration (exit 2 without KAFKA_BROKERS)', () => {
    const r = run('freshness-monitor');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('invalid configuration for service freshness-monitor');
    expect(r.stderr).toContain('KAFKA_BROKERS: required');
  });
});

describe('deploy/compose', () => {
  const schema = JSON.parse(read('deploy/compose/compose-spec.json')) as object;
  const validateCompose = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
  const compose = YAML.parse(read('deploy/compose/compose.yaml'), { merge: true }) as {
    services: Record<string, Record<string, unknown>>;
  };
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-compose-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('validates against the Compose Specification schema, which rejects a misspelt key', () => {
    expect(validateCompose(compose), JSON.stringify(validateCompose.errors)).toBe(true);
    const broken = structuredClone(compose);
    broken.services['kafka']!['helthcheck'] = {};
    expect(validateCompose(broken)).toBe(false);
    expect(validateCompose.errors?.[0]?.params).toEqual({ unevaluatedProperty: 'helthcheck' });
  });

  it('runs Kafka, the five services from the one image, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [...SERVICES, 'kafka', 'topics', 'prometheus', 'grafana'].sort(),
    );
    for (const name of SERVICES) {
      const s = compose.services[name]!;
      expect([s['image'], s['command']]).toEqual(['tidemark:dev', [name]]);
      // stop_grace_period (45s) outlasts SHUTDOWN_TIMEOUT (30s).
      expect(s['stop_grace_period']).toBe('45s');
      expect((s['environment'] as Record<string, string>)['SHUTDOWN_TIMEOUT']).toBe('30s');
    }
  });

  it.skipIf(!promtool)('its Prometheus config passes promtool and scrapes every service', () => {
    const config = read('deploy/compose/prometheus.yml').replace(
      '/etc/prometheus/rules.yml',
      join(root, 'deploy/prometheus/rules.yml'),
    );
    writeFileSync(join(dir, 'prometheus.yml'), config);
    const out = execFileSync(promtool!, ['check', 'config', join(dir, 'prometheus.yml')], {
      encoding: 'utf8',
    });
    expect(out).toContain('SUCCESS: 12 rules found');
    const targets = (
      YAML.parse(config) as {
        scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
      }
    ).scrape_configs[0]!.static_configs[0]!.targets;
    expect(targets).toEqual(SERVICES.map((s) => `${s}:8080`));
  });
});
