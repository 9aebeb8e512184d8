// Container entry point: `node --import @tidemark/runtime/otel deploy/docker/service.mjs <service>` runs one of the
// five services from the one image. An unknown name exits 2, the runtime's code for a configuration error.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SERVICES = [
  'contract-checker',
  'freshness-monitor',
  'parity-verifier',
  'drift-detector',
  'alert-router',
];

const name = process.argv[2];
if (!name || !SERVICES.includes(name)) {
  process.stderr.write(
    `usage: <image> <service>; service is one of ${SERVICES.join(', ')} (got ${name === undefined ? 'none' : JSON.stringify(name)})\n`,
  );
  process.exit(2);
}
const main = fileURLToPath(new URL(`../../services/${name}/dist/main.js`, import.meta.url));
if (!existsSync(main)) {
  process.stderr.write(`${main} is missing: build the services first (npm run build)\n`);
  process.exit(2);
}
await import(main);
