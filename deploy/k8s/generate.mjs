// Writes deploy/k8s/*.yaml from one description of the five services, so the manifests cannot drift apart:
//   node deploy/k8s/generate.mjs           (re-write)
//   node deploy/k8s/generate.mjs --check   (exit 1 if a committed manifest differs; CI and test/ops run this)
// The contracts ConfigMap is generated from contracts/*.yaml for the same reason.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');

/** Image every Deployment runs (one image, the service is its argument); pin a digest in production. */
export const IMAGE = 'ghcr.io/tidemark/tidemark:0.1.0';
/** SHUTDOWN_TIMEOUT of every service; the pod's grace period must exceed it (Kubernetes SIGKILLs after it). */
export const SHUTDOWN_TIMEOUT_SECONDS = 30;
export const GRACE_PERIOD_SECONDS = SHUTDOWN_TIMEOUT_SECONDS + 15;

/**
 * Replicas are at most the input partitions (`tidemark topics create --partitions`, 3 by default); more instances idle.
 * Memory follows state size: parity holds the index inventory, drift its windows.
 */
export const SERVICES = [
  { name: 'contract-checker', replicas: 2, cpu: '250m', memory: '256Mi', limit: '512Mi' },
  { name: 'freshness-monitor', replicas: 2, cpu: '250m', memory: '512Mi', limit: '1Gi' },
  { name: 'parity-verifier', replicas: 2, cpu: '500m', memory: '1Gi', limit: '2Gi' },
  { name: 'drift-detector', replicas: 2, cpu: '250m', memory: '512Mi', limit: '1Gi' },
  { name: 'alert-router', replicas: 2, cpu: '250m', memory: '256Mi', limit: '512Mi' },
  // The alert-router image in ALERT_ROUTER_MODE=alertmanager: POSTs dq.alerts.v1 to Alertmanager and commits after
  // each 2xx. Apply alertmanager-bridge.yaml only with an Alertmanager (ALERTMANAGER_URL in tidemark-config).
  {
    name: 'alertmanager-bridge',
    runs: 'alert-router',
    mode: 'alertmanager',
    replicas: 1,
    cpu: '100m',
    memory: '128Mi',
    limit: '256Mi',
  },
];

const partOf = { 'app.kubernetes.io/part-of': 'tidemark' };
const labels = (name) => ({ 'app.kubernetes.io/name': name, ...partOf });

function deployment(s) {
  const env = [
    // A mode of the alert-router keeps the router's name: it reads the router's topics.
    { name: 'SERVICE_NAME', value: s.runs ?? s.name },
    ...(s.mode ? [{ name: 'ALERT_ROUTER_MODE', value: s.mode }] : []),
    { name: 'SHUTDOWN_TIMEOUT', value: `${SHUTDOWN_TIMEOUT_SECONDS}s` },
    { name: 'CONTRACTS_DIR', value: '/etc/tidemark/contracts' },
    // SASL: the three come together or not at all (the runtime refuses a partial set).
    ...['MECHANISM', 'USERNAME', 'PASSWORD'].map((k) => ({
      name: `KAFKA_SASL_${k}`,
      valueFrom: {
        secretKeyRef: { name: 'tidemark-kafka-sasl', key: k.toLowerCase(), optional: true },
      },
    })),
    // TLS: KAFKA_SSL in tidemark-config; a private CA joins Node's trust store through NODE_EXTRA_CA_CERTS.
    { name: 'NODE_EXTRA_CA_CERTS', value: '/etc/tidemark/tls/ca.crt' },
  ];
  if (s.mode === 'alertmanager') {
    env.push(
      {
        name: 'ALERTMANAGER_URL',
        valueFrom: { configMapKeyRef: { name: 'tidemark-config', key: 'ALERTMANAGER_URL' } },
      },
      // Basic auth (username + password) or a bearer token, if Alertmanager sits behind a proxy that wants one.
      ...['USERNAME', 'PASSWORD', 'BEARER_TOKEN'].map((k) => ({
        name: `ALERTMANAGER_AUTH_${k}`,
        valueFrom: {
          secretKeyRef: {
            name: 'tidemark-alertmanager-auth',
            key: k.toLowerCase().replace('_', '-'),
            optional: true,
          },
        },
      })),
    );
  }
  const probe = (path, failureThreshold) => ({
    httpGet: { path, port: 'http' },
    periodSeconds: 10,
    timeoutSeconds: 3,
    failureThreshold,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `tidemark-${s.name}`, labels: labels(s.name) },
    spec: {
      replicas: s.replicas,
      selector: { matchLabels: labels(s.name) },
      // One at a time: every replacement costs the group a rebalance and its partitions a restore.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: labels(s.name) },
        spec: {
          serviceAccountName: 'tidemark',
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: GRACE_PERIOD_SECONDS,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: s.name,
              image: IMAGE,
              args: [s.runs ?? s.name],
              ports: [{ name: 'http', containerPort: 8080 }],
              envFrom: [{ configMapRef: { name: 'tidemark-config' } }],
              env,
              resources: {
                requests: { cpu: s.cpu, memory: s.memory },
                limits: { memory: s.limit },
              },
              // Liveness is only "no fatal error"; a restore or rebalance shows on readiness, never restarts.
              startupProbe: { ...probe('/healthz', 30), periodSeconds: 5 },
              livenessProbe: probe('/healthz', 3),
              readinessProbe: probe('/readyz', 2),
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'contracts', mountPath: '/etc/tidemark/contracts', readOnly: true },
                { name: 'kafka-tls', mountPath: '/etc/tidemark/tls', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'contracts', configMap: { name: 'tidemark-contracts' } },
            { name: 'kafka-tls', secret: { secretName: 'tidemark-kafka-tls', optional: true } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  };
}

function service(s) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `tidemark-${s.name}`, labels: labels(s.name) },
    spec: {
      selector: labels(s.name),
      ports: [{ name: 'http', port: 8080, targetPort: 'http' }],
    },
  };
}

function pdb(s) {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: `tidemark-${s.name}`, labels: labels(s.name) },
    // A drain takes one instance at a time: its partitions move to the others and restore there.
    spec: { maxUnavailable: 1, selector: { matchLabels: labels(s.name) } },
  };
}

function common() {
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'tidemark', labels: partOf },
      automountServiceAccountToken: false,
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'tidemark-config', labels: partOf },
      // Every variable is described in docs/operations.md; secrets never go here.
      data: {
        KAFKA_BROKERS: 'kafka-0.kafka:9092,kafka-1.kafka:9092,kafka-2.kafka:9092',
        KAFKA_SSL: 'false',
        LOG_LEVEL: 'info',
        HTTP_PORT: '8080',
      },
    },
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'tidemark', labels: partOf },
      spec: {
        selector: { matchLabels: partOf },
        // job="tidemark-<service>", which deploy/prometheus/rules.yml matches with job=~"tidemark.*".
        endpoints: [{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }],
      },
    },
  ];
}

function contractsConfigMap() {
  const dir = join(root, 'contracts');
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const data = Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'tidemark-contracts', labels: partOf },
    data,
  };
}

const header = (what) =>
  `# Generated by deploy/k8s/generate.mjs from ${what} — edit that, then run it.\n`;
const docs = (objects) => objects.map((o) => YAML.stringify(o, { lineWidth: 0 })).join('---\n');

export function manifests() {
  const out = {
    'common.yaml': header('its description of the common objects') + docs(common()),
    'contracts-configmap.yaml': header('contracts/*.yaml') + docs([contractsConfigMap()]),
  };
  for (const s of SERVICES) {
    out[`${s.name}.yaml`] =
      header('its SERVICES table') + docs([deployment(s), service(s), pdb(s)]);
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, text] of Object.entries(manifests())) {
    const path = join(here, file);
    if (check) {
      const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
      if (current !== text) {
        process.stderr.write(`${path} is out of date: run node deploy/k8s/generate.mjs\n`);
        stale++;
      }
    } else writeFileSync(path, text);
  }
  process.exit(stale > 0 ? 1 : 0);
}
