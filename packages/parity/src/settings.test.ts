import { ConfigError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PARITY_SETTINGS,
  paritySettings,
  paritySettingsProblems,
  staticParitySettings,
} from './settings.js';

describe('parity settings', () => {
  it('fills defaults and merges a partial massRemoval', () => {
    const s = paritySettings({ deleteSlaMs: 5, massRemoval: { share: 0.2 } });
    expect(s).toEqual({
      ...DEFAULT_PARITY_SETTINGS,
      deleteSlaMs: 5,
      massRemoval: { share: 0.2, windowMs: 15 * 60_000, minDocuments: 100 },
    });
    expect(staticParitySettings({ aclSlaMs: 7 })('any', 'class').aclSlaMs).toBe(7);
  });

  it.each([
    {
      field: { deleteSlaMs: -1 },
      problem: 'parity.deleteSlaMs must be a non-negative duration in ms, got -1',
    },
    {
      field: { aclSlaMs: Number.NaN },
      problem: 'parity.aclSlaMs must be a non-negative duration in ms, got NaN',
    },
    {
      field: { snapshotExpiryMs: 0 },
      problem: 'parity.snapshotExpiryMs must be a positive duration in ms, got 0',
    },
    {
      field: { massRemoval: { windowMs: 0 } },
      problem: 'parity.massRemoval.windowMs must be a positive duration in ms, got 0',
    },
    {
      field: { massRemoval: { share: 0 } },
      problem: 'parity.massRemoval.share must be in (0, 1], got 0',
    },
    {
      field: { massRemoval: { share: 1.5 } },
      problem: 'parity.massRemoval.share must be in (0, 1], got 1.5',
    },
    {
      field: { massRemoval: { minDocuments: 0.5 } },
      problem: 'parity.massRemoval.minDocuments must be an integer >= 1, got 0.5',
    },
    {
      field: { maxDocumentFindings: -2 },
      problem: 'parity.maxDocumentFindings must be an integer >= 0, got -2',
    },
    { field: { sampleSize: 1.5 }, problem: 'parity.sampleSize must be an integer >= 0, got 1.5' },
  ])('rejects $problem', ({ field, problem }) => {
    expect(() => paritySettings(field)).toThrow(
      new ConfigError('invalid parity settings', [problem]),
    );
  });

  it('lists every problem at once', () => {
    const bad = { ...DEFAULT_PARITY_SETTINGS, deleteSlaMs: -1, sampleSize: -1 };
    expect(paritySettingsProblems(bad, 'contracts/wiki.yaml parity')).toEqual([
      'contracts/wiki.yaml parity.deleteSlaMs must be a non-negative duration in ms, got -1',
      'contracts/wiki.yaml parity.sampleSize must be an integer >= 0, got -1',
    ]);
  });
});
