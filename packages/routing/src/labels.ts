import type { Finding } from '@tidemark/core';
import { ROUTING_DEFAULTS } from './config.js';

/**
 * The alert labels of a finding: the contract's extra labels, then `alertname` (the check, the name every
 * Alertmanager integration keys on), check, severity, system, connector, contentClass and team (these win
 * over contract labels of the same name, so a contract cannot re-route another check). Empty values are
 * dropped, as Alertmanager drops empty labels.
 */
export function findingLabels(finding: Finding): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: string | undefined): void => {
    if (v !== undefined && v !== '') out[k] = v;
  };
  for (const [k, v] of Object.entries(finding.labels ?? {})) put(k, v);
  put('alertname', finding.check);
  put('check', finding.check);
  put('severity', finding.severity);
  put('system', finding.subject.system);
  put('connector', finding.subject.connector);
  put('contentClass', finding.subject.contentClass);
  put('team', finding.owner.team);
  return out;
}

/**
 * The key the alert-router re-keys a finding by before routing (its repartition topic): the value of the
 * partition label, so every group, inhibition and ticket of one system lives in one partition.
 */
export function routingKey(
  finding: Finding,
  partitionLabel: string = ROUTING_DEFAULTS.partitionLabel,
): string {
  return findingLabels(finding)[partitionLabel] ?? '';
}
