import { describe, expect, it } from 'vitest';
import { contractParitySettings, type ParityContractSource } from './contracts.js';
import { DEFAULT_PARITY_SETTINGS } from './settings.js';

const source: ParityContractSource = {
  settingsFor: (system, contentClass) =>
    system !== 'wiki'
      ? undefined
      : {
          contract: { file: 'contracts/wiki.yaml', version: '3' },
          shadow: contentClass === 'draft',
          owner: { steward: 'ann@example.com', team: 'kb', platformOwner: undefined },
          labels: (contentClass === 'policy' ? { tier: 'gold' } : {}) as Record<string, string>,
          slas: { syncLagMs: 1, deleteSlaMs: contentClass === 'policy' ? 2 : 20, aclSlaMs: 3 },
          parity: {
            massRemoval: { share: 0.3, windowMs: 4, minDocuments: 5 },
            inventoryToleranceMs: 6,
            snapshotExpiryMs: 7,
            maxDocumentFindings: 8,
          },
        },
};

describe('contractParitySettings', () => {
  const resolve = contractParitySettings(source, { sampleSize: 9 });

  it('maps a contract class onto parity settings', () => {
    expect(resolve('wiki', 'policy')).toEqual({
      deleteSlaMs: 2,
      aclSlaMs: 3,
      syncLagMs: 1,
      massRemoval: { share: 0.3, windowMs: 4, minDocuments: 5 },
      inventoryToleranceMs: 6,
      snapshotExpiryMs: 7,
      maxDocumentFindings: 8,
      sampleSize: 9,
      ledgerRetentionMs: DEFAULT_PARITY_SETTINGS.ledgerRetentionMs,
      owner: { steward: 'ann@example.com', team: 'kb' },
      contract: { file: 'contracts/wiki.yaml', version: '3' },
      labels: { tier: 'gold' },
    });
    expect(resolve('wiki', 'draft')).toMatchObject({ deleteSlaMs: 20, shadow: true });
    expect(resolve('wiki', 'policy')).toBe(resolve('wiki', 'policy'));
  });

  it('checks a system without a contract with the defaults and no owner', () => {
    expect(resolve('crm')).toEqual({ ...DEFAULT_PARITY_SETTINGS, sampleSize: 9 });
  });
});
