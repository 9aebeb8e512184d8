import { describe, expect, it } from 'vitest';
import {
  NO_CONTRACT_POLICY,
  settingsFromContracts,
  type FreshnessContractSource,
} from './contracts.js';
import { HOUR, MINUTE } from './test-events.js';

const contract = { file: 'contracts/confluence.yaml', version: '7' };
const source: FreshnessContractSource = {
  settingsFor: (system, contentClass) =>
    system !== 'confluence'
      ? undefined
      : {
          contract,
          shadow: contentClass === 'macro',
          owner: { steward: undefined, team: 'kb', platformOwner: 'platform@example.com' },
          labels: { tier: '1' },
          slas: {
            reviewIntervalMs: contentClass === 'policy' ? 90 * 24 * HOUR : undefined,
            syncLagMs: 15 * MINUTE,
          },
        },
  connectorSettings: (system, connector) =>
    system !== 'confluence' || connector !== 'confluence-prod'
      ? undefined
      : {
          contract,
          shadow: false,
          owner: { team: 'kb-platform' },
          labels: {},
          heartbeatMs: 2 * HOUR,
          failingRuns: 4,
        },
};

describe('settingsFromContracts', () => {
  const settings = settingsFromContracts(source);

  it.each([
    [
      'a class with a review clock',
      ['confluence', 'policy'],
      {
        syncLagMs: 15 * MINUTE,
        reviewIntervalMs: 90 * 24 * HOUR,
        heartbeatMs: 0,
        failingRuns: 0,
        owner: { team: 'kb', platformOwner: 'platform@example.com' },
        contract,
        labels: { tier: '1' },
        shadow: false,
      },
    ],
    [
      'a shadow class without a review clock',
      ['confluence', 'macro'],
      {
        syncLagMs: 15 * MINUTE,
        reviewIntervalMs: 0,
        heartbeatMs: 0,
        failingRuns: 0,
        owner: { team: 'kb', platformOwner: 'platform@example.com' },
        contract,
        labels: { tier: '1' },
        shadow: true,
      },
    ],
    [
      'a connector',
      ['confluence', undefined, 'confluence-prod'],
      {
        syncLagMs: 0,
        reviewIntervalMs: 0,
        heartbeatMs: 2 * HOUR,
        failingRuns: 4,
        owner: { team: 'kb-platform' },
        contract,
        labels: {},
        shadow: false,
      },
    ],
    ['a system without a contract', ['gdrive', 'policy'], NO_CONTRACT_POLICY],
    [
      'a connector the contract does not know',
      ['confluence', undefined, 'other'],
      NO_CONTRACT_POLICY,
    ],
  ] as const)('resolves %s', (_name, args, expected) => {
    expect(settings(...(args as unknown as [string, string?, string?]))).toEqual(expected);
  });
});
