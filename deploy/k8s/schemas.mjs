// Builds the JSON schemas kubeconform validates deploy/k8s against, offline:
//   node deploy/k8s/schemas.mjs <kubernetes swagger.json> <out dir> [<ServiceMonitor CRD yaml>]
// - Kubernetes kinds: from the pinned release's OpenAPI v2 document (api/openapi-spec/swagger.json of the Go module
//   k8s.io/kubernetes@KUBERNETES_VERSION, fetched with `go mod download`), one standalone file per kind the
//   manifests use, named as kubeconform looks them up: <kind>-<group>-<version>.json.
// - ServiceMonitor: from the prometheus-operator CRD (example/prometheus-operator-crd/
//   monitoring.coreos.com_servicemonitors.yaml of github.com/prometheus-operator/prometheus-operator@v0.85.0).
// The output is committed in deploy/k8s/schemas/ (CI needs no network for it); re-run this to move versions.
// Strict like kubeconform's own "-strict" schemas: an object with declared properties admits no others, so a
// misspelt field (readinesProbe) fails instead of being ignored.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export const KUBERNETES_VERSION = 'v1.34.4';

/** The kinds deploy/k8s uses; a manifest of any other kind fails kubeconform (no schema), so add it here. */
export const KINDS = [
  ['', 'v1', 'ConfigMap'],
  ['', 'v1', 'Service'],
  ['', 'v1', 'ServiceAccount'],
  ['apps', 'v1', 'Deployment'],
  ['policy', 'v1', 'PodDisruptionBudget'],
];

/** Inlines every $ref and applies the strict and int-or-string conventions of kubeconform's schemas. */
export function standalone(definitions, name) {
  const seen = [];
  const walk = (node) => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    if (typeof node.$ref === 'string') {
      const target = node.$ref.replace('#/definitions/', '');
      if (seen.includes(target)) return {}; // recursive types (none in these kinds) are left open
      seen.push(target);
      const out = walk(definitions[target]);
      seen.pop();
      return out;
    }
    if (node.format === 'int-or-string')
      return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] =
        k === 'properties'
          ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, walk(s)]))
          : walk(v);
    }
    if (
      out.properties &&
      out.additionalProperties === undefined &&
      !out['x-kubernetes-preserve-unknown-fields']
    )
      out.additionalProperties = false;
    return out;
  };
  return { $schema: 'http://json-schema.org/schema#', ...walk({ $ref: `#/definitions/${name}` }) };
}

export function kindSchemas(swagger) {
  const out = {};
  for (const [group, version, kind] of KINDS) {
    const name = Object.keys(swagger.definitions).find((d) =>
      (swagger.definitions[d]['x-kubernetes-group-version-kind'] ?? []).some(
        (g) => g.group === group && g.version === version && g.kind === kind,
      ),
    );
    if (!name)
      throw new Error(`${group || 'core'}/${version} ${kind}: not in the OpenAPI document`);
    const schema = standalone(swagger.definitions, name);
    // apiVersion and kind must be the ones this schema is for.
    schema.properties.apiVersion = {
      type: 'string',
      enum: [group ? `${group}/${version}` : version],
    };
    schema.properties.kind = { type: 'string', enum: [kind] };
    out[`${kind.toLowerCase()}-${group ? `${group.split('.')[0]}-` : ''}${version}.json`] = schema;
  }
  return out;
}

/** The schema of a CRD's v1 version, in the same strict standalone form. */
export function crdSchema(crd) {
  const version = crd.spec.versions.find((v) => v.name === 'v1');
  const schema = standalone({ crd: version.schema.openAPIV3Schema }, 'crd');
  schema.properties.apiVersion = { type: 'string', enum: [`${crd.spec.group}/v1`] };
  schema.properties.kind = { type: 'string', enum: [crd.spec.names.kind] };
  return {
    [`${crd.spec.names.kind.toLowerCase()}-${crd.spec.group.split('.')[0]}-v1.json`]: schema,
  };
}

if (process.argv[1]?.endsWith('schemas.mjs')) {
  const [swaggerPath, outDir, crdPath] = process.argv.slice(2);
  if (!swaggerPath || !outDir) {
    process.stderr.write('usage: node deploy/k8s/schemas.mjs <swagger.json> <out dir>\n');
    process.exit(2);
  }
  const swagger = JSON.parse(readFileSync(swaggerPath, 'utf8'));
  mkdirSync(outDir, { recursive: true });
  const crd = crdPath ? crdSchema(YAML.parse(readFileSync(crdPath, 'utf8'))) : {};
  for (const [file, schema] of Object.entries({ ...kindSchemas(swagger), ...crd }))
    writeFileSync(join(outDir, file), JSON.stringify(schema));
  process.stdout.write(
    `wrote ${KINDS.length} schemas (Kubernetes ${KUBERNETES_VERSION}) to ${outDir}\n`,
  );
}
