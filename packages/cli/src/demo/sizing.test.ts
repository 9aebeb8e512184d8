import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadContractDir } from '@tidemark/contracts/node';
import { alignProfiles, defaultFaultPlan, simulate } from '@tidemark/sim';
import { undecidableWindowFaults } from './sizing.js';

const CONTRACTS = fileURLToPath(new URL('../../../../contracts', import.meta.url));
const START = Date.parse('2026-03-02T00:00:00Z');

describe('undecidableWindowFaults', () => {
  it.each([
    [
      'the old demo size: too few changes per window for null rate and drift',
      { docs: 300, days: 0.5, changes: 1 },
      [
        'contract.null-rate on confluence (owner null rate, 1h windows): needs 50 events per window, this run makes about 2',
        'drift.categorical on confluence (language, 6h windows): needs 100 events per window, this run makes about 25',
        'drift.numeric on confluence (size-bytes, 1h windows): needs 200 events per window, this run makes about 4',
        'drift.volume on confluence (change-volume, 1h windows): needs 100 events per window, this run makes about 4',
      ],
    ],
    [
      'busy enough, but half a day leaves no baseline window before the language fault',
      { docs: 3000, days: 0.5, changes: 8 },
      [
        'drift.categorical on confluence (language, 6h windows): no full window before the fault to compare with',
      ],
    ],
    [
      'the demo default: every windowed fault decidable',
      { docs: 3000, days: 0.75, changes: 8 },
      [],
    ],
  ])('%s', async (_name, size, expected) => {
    const contracts = await loadContractDir(CONTRACTS);
    const profiles = alignProfiles(contracts);
    const sim = simulate({
      seed: 7,
      docs: size.docs,
      days: size.days,
      start: START,
      changesPerDocPerDay: size.changes,
      faults: defaultFaultPlan(),
      profiles,
    });
    const found = undecidableWindowFaults(contracts, profiles, sim.meta, sim.truth, {
      changesPerDocPerDay: size.changes,
      skewMs: 600_000,
    });
    expect(found.map((f) => f.reason).sort()).toEqual(expected);
  });
});
