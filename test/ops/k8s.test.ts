// deploy/k8s: generated manifests are up to date, every service has what a platform team expects (probes, a grace
// period longer than SHUTDOWN_TIMEOUT, resources, a PodDisruptionBudget, contracts from a ConfigMap, SASL/TLS from
// Secrets, a ServiceMonitor), and kubeconform accepts them in strict mode against the committed schemas.
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadContractDir } from '@tidemark/contracts/node';
import { parseDuration } from '@tidemark/core';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { KUBECONFORM_ARGS, kubeconform } from './tools.js';

const root = new URL('../../', import.meta.url).pathname;
const k8s = join(root, 'deploy/k8s');
// [deployment name, the image's argument]: the Alertmanager bridge is the alert-router in another mode.
const SERVICES: Array<[string, string]> = [
  ['contract-checker', 'contract-checker'],
  ['freshness-monitor', 'freshness-monitor'],
  ['parity-verifier', 'parity-verifier'],
  ['drift-detector', 'drift-detector'],
  ['alert-router', 'alert-router'],
  ['alertmanager-bridge', 'alert-router'],
];

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
}
const files = readdirSync(k8s).filter((f) => f.endsWith('.yaml'));
const objects: Obj[] = files.flatMap((f) =>
  YAML.parseAllDocuments(readFileSync(join(k8s, f), 'utf8')).map((d) => d.toJS() as Obj),
);
const find = (kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

describe('deploy/k8s manifests', () => {
  it('are what deploy/k8s/generate.mjs writes (contracts ConfigMap included)', () => {
    const r = spawnSync(process.execPath, [join(k8s, 'generate.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('carry every contract file in the contracts ConfigMap', () => {
    const contracts = readdirSync(join(root, 'contracts')).filter((f) => f.endsWith('.yaml'));
    const data = find('ConfigMap', 'tidemark-contracts')?.data ?? {};
    expect(Object.keys(data).sort()).toEqual(contracts.sort());
    for (const f of contracts)
      expect(data[f]).toBe(readFileSync(join(root, 'contracts', f), 'utf8'));
  });

  it('the contracts ConfigMap loads as the kubelet mounts it (..data symlinks to a timestamped directory)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-configmap-'));
    try {
      const stamped = '..2026_12_03_09_00_00.000000001';
      mkdirSync(join(dir, stamped));
      const data = find('ConfigMap', 'tidemark-contracts')!.data!;
      for (const [file, text] of Object.entries(data))
        writeFileSync(join(dir, stamped, file), text);
      symlinkSync(stamped, join(dir, '..data'));
      for (const file of Object.keys(data)) symlinkSync(join('..data', file), join(dir, file));
      const fromMount = await loadContractDir(dir);
      const fromRepo = await loadContractDir(join(root, 'contracts'));
      // Every contract read once (not once per symlink), the same set as from the repository.
      expect(fromMount.systems).toEqual(fromRepo.systems);
      expect(fromMount.systems.length).toBeGreaterThan(0);
      expect(readFileSync(join(dir, 'routing.yaml'), 'utf8')).toBe(data['routing.yaml']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(SERVICES)(
    '%s: probes, grace period, resources, secrets, disruption budget',
    (name, runs) => {
      const deployment = find('Deployment', `tidemark-${name}`);
      expect(deployment).toBeDefined();
      const pod = deployment!.spec.template.spec;
      const [container] = pod.containers;
      expect(container.args).toEqual([runs]);
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      const env = Object.fromEntries(
        (container.env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [
          e.name,
          e.value ?? e.valueFrom,
        ]),
      );
      const shutdownMs = parseDuration(env['SHUTDOWN_TIMEOUT'] as string);
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdownMs);
      expect(container.resources.requests).toMatchObject({
        cpu: expect.any(String),
        memory: expect.any(String),
      });
      expect(container.resources.limits.memory).toEqual(expect.any(String));
      expect(env['KAFKA_SASL_PASSWORD']).toEqual({
        secretKeyRef: { name: 'tidemark-kafka-sasl', key: 'password', optional: true },
      });
      expect(pod.volumes).toContainEqual({
        name: 'kafka-tls',
        secret: { secretName: 'tidemark-kafka-tls', optional: true },
      });
      expect(pod.volumes).toContainEqual({
        name: 'contracts',
        configMap: { name: 'tidemark-contracts' },
      });
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      const pdb = find('PodDisruptionBudget', `tidemark-${name}`);
      expect(pdb?.spec.selector.matchLabels).toEqual(deployment!.spec.selector.matchLabels);
      const service = find('Service', `tidemark-${name}`);
      expect(service?.spec.selector).toEqual(deployment!.spec.template.metadata.labels);
    },
  );

  it('runs the Alertmanager bridge as its own consumer; the router itself gets no Alertmanager URL', () => {
    const envOf = (name: string) =>
      Object.fromEntries(
        (
          find('Deployment', `tidemark-${name}`)!.spec.template.spec.containers[0].env as Array<{
            name: string;
            value?: string;
            valueFrom?: unknown;
          }>
        ).map((e) => [e.name, e.value ?? e.valueFrom]),
      );
    expect(envOf('alertmanager-bridge')).toMatchObject({
      SERVICE_NAME: 'alert-router',
      ALERT_ROUTER_MODE: 'alertmanager',
      ALERTMANAGER_URL: { configMapKeyRef: { name: 'tidemark-config', key: 'ALERTMANAGER_URL' } },
    });
    expect(envOf('alert-router')['ALERTMANAGER_URL']).toBeUndefined();
  });

  it('has a ServiceMonitor that selects every service and scrapes /metrics', () => {
    const monitor = find('ServiceMonitor', 'tidemark');
    const services = objects.filter((o) => o.kind === 'Service');
    expect(services).toHaveLength(SERVICES.length);
    for (const s of services)
      expect(s.metadata.labels).toMatchObject(monitor!.spec.selector.matchLabels);
    expect(monitor!.spec.endpoints).toEqual([
      expect.objectContaining({ port: 'http', path: '/metrics' }),
    ]);
  });
});

describe.skipIf(!kubeconform)('kubeconform (strict, committed schemas)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-k8s-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (paths: string[]) =>
    spawnSync(kubeconform!, [...KUBECONFORM_ARGS, ...paths], { cwd: root, encoding: 'utf8' });

  it('accepts every manifest', () => {
    const r = run(files.map((f) => join('deploy/k8s', f)));
    expect(r.stdout).toContain(
      `${objects.length} resources found in ${files.length} files - Valid: ${objects.length}, Invalid: 0, Errors: 0, Skipped: 0`,
    );
    expect(r.status).toBe(0);
  });

  it.each([
    [
      'a misspelt field',
      (t: string) => t.replace('readinessProbe', 'readinesProbe'),
      "additional properties 'readinesProbe' not allowed",
    ],
    [
      'a wrong type',
      (t: string) =>
        t.replace('terminationGracePeriodSeconds: 45', 'terminationGracePeriodSeconds: "45"'),
      'got string, want integer',
    ],
    [
      'a kind without a schema',
      (t: string) => t.replace('kind: Deployment', 'kind: Deploymnet'),
      'could not find schema for Deploymnet',
    ],
  ])('rejects %s', (_name, mutate, message) => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, mutate(readFileSync(join(k8s, 'alert-router.yaml'), 'utf8')));
    const r = run([path]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(message);
  });
});
