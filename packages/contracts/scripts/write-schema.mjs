// Writes contracts/schema/contract.schema.json from the TypeBox definition (packages/contracts/src/schema.ts).
// Run through `npm run contracts:schema`, which builds the package first; schema.test.ts fails when the
// committed file is stale.
import { writeFileSync } from 'node:fs';
import { renderContractJsonSchema } from '../dist/index.js';

const target = new URL('../../../contracts/schema/contract.schema.json', import.meta.url);
writeFileSync(target, renderContractJsonSchema());
console.log(`wrote ${target.pathname}`);
