import { describe, expect, it } from 'vitest';
import { instanceTopics, type ServiceTopology } from './topology.js';

const partials: ServiceTopology = {
  service: 'drift-detector',
  internalTopics: (name) => [
    { name: `tidemark.${name}.partials`, compacted: false, coPartitioned: true, purpose: 'p' },
  ],
  stateFormat: 1,
};
const ownsChangelog: ServiceTopology = {
  service: 'parity-verifier',
  internalTopics: (name) => [
    { name: `tidemark.${name}.state`, compacted: true, coPartitioned: true, purpose: 'table' },
  ],
  stateFormat: 2,
};
const stateOnly: ServiceTopology = {
  service: 'freshness-monitor',
  internalTopics: () => [],
  stateFormat: 1,
};

describe('instanceTopics', () => {
  it.each<[string, ServiceTopology, string, Array<[string, boolean, boolean]>]>([
    [
      'internal topics, then the changelog',
      partials,
      'dd-eu',
      [
        ['tidemark.dd-eu.partials', false, true],
        ['tidemark.dd-eu.state', true, true],
      ],
    ],
    [
      'a changelog the service lists itself is not added twice',
      ownsChangelog,
      'pv-2',
      [['tidemark.pv-2.state', true, true]],
    ],
    [
      'a service without internal topics still has its changelog',
      stateOnly,
      'freshness-monitor',
      [['tidemark.freshness-monitor.state', true, true]],
    ],
  ])('%s', (_, topology, name, expected) => {
    expect(
      instanceTopics(topology, name).map((t) => [t.name, t.compacted, t.coPartitioned]),
    ).toEqual(expected);
  });

  it('says whose changelog it is', () => {
    expect(instanceTopics(stateOnly, 'fm-eu').at(-1)?.purpose).toBe(
      'freshness-monitor: partition state changelog',
    );
  });
});
