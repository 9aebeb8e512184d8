// External checkers the ops tests run (Debian prometheus for promtool/prometheus, kubeconform from the Go proxy).
// Missing on a developer machine: those tests are skipped. Missing in CI: the file fails, .ci/run must install it.
import { spawnSync } from 'node:child_process';

export function findTool(
  command: string,
  versionArgs: string[],
  installHint: string,
): string | undefined {
  const found = spawnSync(command, versionArgs, { encoding: 'utf8' }).status === 0;
  if (!found && process.env['CI']) throw new Error(`${command} is missing in CI: ${installHint}`);
  return found ? command : undefined;
}

export const promtool = findTool(
  'promtool',
  ['--version'],
  '.ci/run must install the Debian package prometheus',
);

export const kubeconform = findTool(
  'kubeconform',
  ['-v'],
  '.ci/run must go install github.com/yannh/kubeconform/cmd/kubeconform',
);

/** kubeconform's arguments for deploy/k8s: strict, offline, against the schemas committed there. */
export const KUBECONFORM_ARGS = [
  '-strict',
  '-summary',
  '-schema-location',
  'deploy/k8s/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json',
];

export const prometheus = findTool(
  'prometheus',
  ['--version'],
  '.ci/run must install the Debian package prometheus',
);
