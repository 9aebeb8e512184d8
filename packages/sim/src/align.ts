import type { AllowedCheck, ContractSet } from '@tidemark/contracts';
import {
  DEFAULT_PROFILES,
  profileFor,
  type ContentClassProfile,
  type SystemProfile,
} from './profiles.js';

type Weighted = ReadonlyArray<readonly [string, number]>;

/** Keeps the values an allowed-values check accepts; its own `values`, evenly weighted, when none of ours pass. */
function allowedOnly(choices: Weighted, check: AllowedCheck | undefined): Weighted {
  if (!check) return choices;
  const kept = choices.filter(([v]) => check.test(v));
  if (kept.length > 0) return kept;
  const values = (check.values ?? []).filter((v): v is string => typeof v === 'string');
  return values.length > 0 ? values.map((v) => [v, 1] as const) : choices;
}

const capitalized = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * Profiles of the systems a contract set covers: content classes, SLAs, review clocks, connector heartbeats,
 * allowed vocabularies and windows come from the contracts, so clean simulated documents satisfy them and faults
 * are timed against the SLAs the checks will apply; the shape of documents (ids, titles, sizes, attributes)
 * comes from the base profiles. Connector names come from the base profiles (a contract lists only the
 * instances it overrides).
 */
export function alignProfiles(
  contracts: ContractSet,
  base: Readonly<Record<string, SystemProfile>> = DEFAULT_PROFILES,
): Record<string, SystemProfile> {
  const out: Record<string, SystemProfile> = {};
  for (const system of contracts.systems) {
    const profile = profileFor(system, base);
    const systemSettings = contracts.settingsFor(system)!;
    const allowedIn = (checks: readonly AllowedCheck[], field: string) =>
      checks.find((c) => c.field === field);
    const names = contracts.contentClasses(system);
    const baseClasses: ContentClassProfile[] =
      names.length === 0
        ? [...profile.classes]
        : names.map(
            (name) =>
              profile.classes.find((c) => c.name === name) ?? {
                name,
                weight: 1,
                syncLagMs: 0,
                deleteSlaMs: 0,
                aclSlaMs: 0,
                sizeMedianBytes: 8_000,
                titlePrefix: capitalized(name),
              },
          );
    const classifications = allowedOnly(
      profile.classifications,
      allowedIn(systemSettings.allowed, 'classification'),
    );
    const classes = baseClasses.map((klass): ContentClassProfile => {
      const settings = contracts.settingsFor(system, klass.name)!;
      const { reviewIntervalMs, syncLagMs, deleteSlaMs, aclSlaMs } = settings.slas;
      const size = allowedIn(settings.allowed, 'sizeBytes');
      const sizeMax = Math.min(klass.sizeMaxBytes ?? Infinity, size?.max ?? Infinity);
      const { reviewIntervalMs: _drop, sizeMaxBytes: _dropSize, ...rest } = klass;
      return {
        ...rest,
        ...(reviewIntervalMs === undefined ? {} : { reviewIntervalMs }),
        syncLagMs,
        deleteSlaMs,
        aclSlaMs,
        ...(Number.isFinite(sizeMax) ? { sizeMaxBytes: sizeMax } : {}),
        classifications: allowedOnly(
          klass.classifications ?? classifications,
          allowedIn(settings.allowed, 'classification'),
        ),
      };
    });
    const driftWindowMs: Record<string, number> = { ...profile.driftWindowMs };
    for (const feature of contracts.driftFeatures(system)) {
      const key = feature.field === undefined ? feature.kind : `${feature.kind}:${feature.field}`;
      driftWindowMs[key] ??= feature.windowMs;
      driftWindowMs[feature.kind] =
        (feature.field === 'sizeBytes' || feature.field === 'language' || feature.kind === 'volume'
          ? feature.windowMs
          : undefined) ?? driftWindowMs[feature.kind]!;
    }
    out[system] = {
      ...profile,
      classes,
      classifications,
      languages: allowedOnly(profile.languages, allowedIn(systemSettings.allowed, 'language')),
      connectors: profile.connectors.map((c) => {
        const settings = contracts.connectorSettings(system, c.name)!;
        return { ...c, heartbeatMs: settings.heartbeatMs, failingRuns: settings.failingRuns };
      }),
      referenceGraceMs:
        systemSettings.references.find((r) => r.field === 'supersededBy')?.gracePeriodMs ??
        profile.referenceGraceMs,
      massRemoval: { ...systemSettings.parity.massRemoval },
      snapshotExpiryMs: systemSettings.parity.snapshotExpiryMs,
      nullRateWindowMs: systemSettings.nullRates[0]?.windowMs ?? profile.nullRateWindowMs,
      driftWindowMs,
    };
  }
  return out;
}
