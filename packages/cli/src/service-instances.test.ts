import { describe, expect, it } from 'vitest';
import { resolveTopics } from '@tidemark/core';
import { instancesTopics, resolveInstances, SERVICE_TOPOLOGIES } from './service-instances.js';
import { demoLayout, demoTopicPlan } from './demo/layout.js';
import { UsageError } from './usage-error.js';

type Env = Record<string, string>;

const names = (selectors: string[], env: Env = {}) =>
  resolveInstances(selectors, env).map((i) => `${i.topology.service}=${i.name}`);
const topicNames = (selectors: string[], env: Env = {}) =>
  instancesTopics(resolveInstances(selectors, env)).map((t) => t.name);

describe('resolveInstances', () => {
  it.each<[string, string[], Env, string[]]>([
    [
      'every service under its default name',
      [],
      {},
      [
        'contract-checker=contract-checker',
        'freshness-monitor=freshness-monitor',
        'parity-verifier=parity-verifier',
        'drift-detector=drift-detector',
        'alert-router=alert-router',
      ],
    ],
    [
      'SERVICE_NAME names the one selected service',
      ['contract-checker'],
      { SERVICE_NAME: 'cc-eu' },
      ['contract-checker=cc-eu'],
    ],
    [
      'a name in the flag wins over SERVICE_NAME',
      ['contract-checker=cc-us'],
      { SERVICE_NAME: 'cc-eu' },
      ['contract-checker=cc-us'],
    ],
    [
      'SERVICE_NAME names the one instance the flags leave without a name',
      ['contract-checker', 'alert-router=ar-eu'],
      { SERVICE_NAME: 'cc-eu' },
      ['contract-checker=cc-eu', 'alert-router=ar-eu'],
    ],
    [
      'SERVICE_NAME is not needed when every instance is named',
      ['contract-checker=cc-us', 'alert-router=ar-eu'],
      { SERVICE_NAME: 'cc-eu' },
      ['contract-checker=cc-us', 'alert-router=ar-eu'],
    ],
    [
      'SERVICE_NAME with the drift-detector named by DRIFT_SERVICE_NAME and one other service',
      ['drift-detector', 'freshness-monitor'],
      { SERVICE_NAME: 'fm-eu', DRIFT_SERVICE_NAME: 'dd-eu' },
      ['drift-detector=dd-eu', 'freshness-monitor=fm-eu'],
    ],
    [
      'several services named in flags',
      ['contract-checker=cc-eu', 'alert-router=ar-eu'],
      {},
      ['contract-checker=cc-eu', 'alert-router=ar-eu'],
    ],
    [
      'two instances of one service',
      ['contract-checker=cc-eu', 'contract-checker=cc-us'],
      {},
      ['contract-checker=cc-eu', 'contract-checker=cc-us'],
    ],
    [
      'DRIFT_SERVICE_NAME names the drift-detector even among every service, as the service reads it',
      [],
      { DRIFT_SERVICE_NAME: 'dd-eu' },
      [
        'contract-checker=contract-checker',
        'freshness-monitor=freshness-monitor',
        'parity-verifier=parity-verifier',
        'drift-detector=dd-eu',
        'alert-router=alert-router',
      ],
    ],
    [
      'DRIFT_SERVICE_NAME wins over SERVICE_NAME, as in the drift-detector',
      ['drift-detector'],
      { SERVICE_NAME: 'x', DRIFT_SERVICE_NAME: 'dd-eu' },
      ['drift-detector=dd-eu'],
    ],
    [
      'an empty SERVICE_NAME is unset, as in the services',
      [],
      { SERVICE_NAME: '' },
      [
        'contract-checker=contract-checker',
        'freshness-monitor=freshness-monitor',
        'parity-verifier=parity-verifier',
        'drift-detector=drift-detector',
        'alert-router=alert-router',
      ],
    ],
  ])('%s', (_, selectors, env, expected) => {
    expect(names(selectors, env)).toEqual(expected);
  });

  it.each<[string, string[], Env, string]>([
    [
      'SERVICE_NAME with every service planned',
      [],
      { SERVICE_NAME: 'cc-eu' },
      'SERVICE_NAME=cc-eu names one instance, but 5 services are planned without a name (contract-checker, freshness-monitor, parity-verifier, drift-detector, alert-router); select the one it names with --service <service>, or name each with --service <service>=<name>',
    ],
    [
      'SERVICE_NAME with two services selected',
      ['contract-checker', 'alert-router'],
      { SERVICE_NAME: 'cc-eu' },
      'SERVICE_NAME=cc-eu names one instance, but 2 services are planned without a name (contract-checker, alert-router); select the one it names with --service <service>, or name each with --service <service>=<name>',
    ],
    [
      'an unknown service',
      ['contract-checkr=cc'],
      {},
      'unknown service "contract-checkr"; one of contract-checker, freshness-monitor, parity-verifier, drift-detector, alert-router',
    ],
    [
      'a name Kafka cannot carry in a topic name',
      ['alert-router=ar/eu'],
      {},
      'instance name of alert-router must be 1–200 of a-z A-Z 0-9 . _ -, got "ar/eu"',
    ],
    [
      'an empty name',
      ['alert-router='],
      {},
      'instance name of alert-router must be 1–200 of a-z A-Z 0-9 . _ -, got ""',
    ],
    [
      'one name for two instances',
      ['contract-checker=eu', 'alert-router=eu'],
      {},
      'instance name "eu" is given to contract-checker and alert-router: each instance needs its own (its changelog is tidemark.eu.state)',
    ],
  ])('refuses %s', (_, selectors, env, message) => {
    expect(() => resolveInstances(selectors, env)).toThrow(new UsageError(message));
    expect(() => resolveInstances(selectors, env)).toThrow(UsageError);
  });
});

describe('instancesTopics', () => {
  it('derives every default instance’s internal topics and changelog from the topologies', () => {
    expect(
      instancesTopics(resolveInstances([], {})).map((t) => [t.name, t.compacted, t.coPartitioned]),
    ).toEqual([
      ['tidemark.contract-checker.null-rates', false, true],
      ['tidemark.contract-checker.documents', true, false],
      ['tidemark.contract-checker.state', true, true],
      ['tidemark.freshness-monitor.state', true, true],
      ['tidemark.parity-verifier.state', true, true],
      ['tidemark.parity-verifier.mass-removal', false, true],
      ['tidemark.drift-detector.partials', false, true],
      ['tidemark.drift-detector.state', true, true],
      ['tidemark.alert-router.by-system', false, true],
      ['tidemark.alert-router.webhook', false, false],
      ['tidemark.alert-router.state', true, true],
    ]);
  });

  it.each<[string, string[], Env, string[]]>([
    [
      'SERVICE_NAME=cc-eu with --service contract-checker: tidemark.cc-eu.*',
      ['contract-checker'],
      { SERVICE_NAME: 'cc-eu' },
      ['tidemark.cc-eu.null-rates', 'tidemark.cc-eu.documents', 'tidemark.cc-eu.state'],
    ],
    [
      'a renamed router',
      ['alert-router=ar-eu'],
      {},
      ['tidemark.ar-eu.by-system', 'tidemark.ar-eu.webhook', 'tidemark.ar-eu.state'],
    ],
    [
      'DRIFT_PARTIALS_TOPIC renames the partials, as the drift-detector reads it',
      ['drift-detector=dd-eu'],
      { DRIFT_PARTIALS_TOPIC: 'acme.drift.partials' },
      ['acme.drift.partials', 'tidemark.dd-eu.state'],
    ],
  ])('%s', (_, selectors, env, expected) => {
    expect(topicNames(selectors, env)).toEqual(expected);
  });

  it('every topology gives each instance its own topics (nothing keeps a default name)', () => {
    for (const topology of SERVICE_TOPOLOGIES) {
      for (const topic of instancesTopics([{ topology, name: 'renamed-1' }]))
        expect(topic.name, topology.service).toContain('renamed-1');
    }
  });
});

describe('demoTopicPlan', () => {
  it("plans the run's catalog and each instance's changelog and internal topics under the run's names", () => {
    const layout = demoLayout({
      runId: 'r1',
      brokers: 'b:1',
      contractsDir: 'contracts',
      basePort: 9000,
    });
    const plan = demoTopicPlan(layout, 2);
    const catalog = Object.values(resolveTopics()).map((t) => `demo.r1.${t}`);
    expect(
      plan
        .filter((t) => t.name.startsWith('demo.r1.'))
        .map((t) => t.name)
        .sort(),
    ).toEqual(catalog.sort());
    const internal = plan.filter((t) => t.name.startsWith('tidemark.'));
    expect(internal.every((t) => t.name.includes('-r1.'))).toBe(true);
    expect(internal.map((t) => t.name)).toContain('tidemark.contract-checker-r1.documents');
    expect(internal.filter((t) => t.name.endsWith('.state')).map((t) => t.name)).toEqual([
      'tidemark.alert-router-r1.state',
      'tidemark.contract-checker-r1.state',
      'tidemark.freshness-monitor-r1.state',
      'tidemark.parity-verifier-r1.state',
      'tidemark.drift-detector-r1.state',
    ]);
    expect(plan.find((t) => t.name === 'tidemark.drift-detector-r1.state')).toMatchObject({
      partitions: 2,
      cleanupPolicy: 'compact',
      coPartitioned: true,
    });
  });
});
