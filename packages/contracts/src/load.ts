import { buildContractSet, type ContractSet, type SourceContractInput } from './resolve.js';
import { ContractLintError, sortProblems, type LintProblem } from './problems.js';
import type { OwnersDocument, SourceContractDocument } from './schema.js';
import { checkSourceContract } from './semantics.js';
import { displayPath, validateDocument, type ContractKind } from './validate.js';
import { parseSource, type DocPath, type SourceDocument } from './yaml-source.js';

/** A contract file as read by the caller: its path (as it should appear in problems and findings) and text. */
export interface ContractFile {
  path: string;
  text: string;
}

/** What loadContracts returns: the usable contracts and every problem found. */
export interface LoadResult {
  /** Built from the documents without problems; callers must refuse to run when `problems` is not empty. */
  contracts: ContractSet;
  problems: LintProblem[];
}

/** Files in contracts/ that other components own and that are not contracts. */
export const NON_CONTRACT_FILES: readonly string[] = [
  'routing.yaml',
  'routing.yml',
  'silences.yaml',
  'silences.yml',
];

/** Whether a path in the contracts directory is a contract file (YAML, not routing/silences, not under schema/). */
export function isContractFile(path: string): boolean {
  const parts = path.split(/[\\/]/);
  const base = parts[parts.length - 1] ?? '';
  return /\.ya?ml$/.test(base) && !NON_CONTRACT_FILES.includes(base) && !parts.includes('schema');
}

interface LoadedDocument {
  source: SourceDocument;
  value: unknown;
  kind: ContractKind | undefined;
  problems: LintProblem[];
}

/** Parses, validates and resolves contract files; pure — the caller reads the files. */
export function loadContracts(files: ReadonlyArray<ContractFile>): LoadResult {
  const problems: LintProblem[] = [];
  const loaded: LoadedDocument[] = [];
  for (const file of files) {
    const parsed = parseSource(file.path, file.text);
    problems.push(...parsed.problems);
    for (const source of parsed.documents) {
      let value: unknown;
      try {
        value = source.doc.toJS();
      } catch (error) {
        // e.g. an alias expanded too often (yaml's guard against "billion laughs" documents).
        problems.push(
          source.problem([], `YAML: ${error instanceof Error ? error.message : String(error)}`),
        );
        continue;
      }
      const { kind, problems: found } = validateDocument(source, value);
      loaded.push({ source, value, kind, problems: found });
    }
  }

  const owners = loaded.filter((d) => d.kind === 'Owners');
  const teamFiles = new Map<string, { file: string }>();
  for (const doc of owners) {
    const teams = (doc.value as { teams?: unknown }).teams;
    if (typeof teams !== 'object' || teams === null || Array.isArray(teams)) continue;
    for (const name of Object.keys(teams)) {
      const first = teamFiles.get(name);
      if (first === undefined) teamFiles.set(name, { file: doc.source.file });
      else
        doc.problems.push(
          doc.source.problem(
            ['teams', name],
            `teams.${name}: team already defined in ${first.file}`,
            { key: true },
          ),
        );
    }
  }
  const context = { teams: owners.length === 0 ? undefined : new Set(teamFiles.keys()) };

  const bySystem = new Map<string, LoadedDocument[]>();
  for (const doc of loaded) {
    if (doc.kind !== 'SourceContract') continue;
    const contract = doc.value as Record<string, unknown>;
    doc.problems.push(...checkSourceContract(doc.source, contract, context));
    const system = contract.system;
    if (typeof system !== 'string') continue;
    const docs = bySystem.get(system) ?? [];
    docs.push(doc);
    bySystem.set(system, docs);
  }
  for (const [system, docs] of bySystem) checkSystemContracts(system, docs);

  const valid = loaded.filter((d) => d.problems.length === 0);
  const sources: SourceContractInput[] = valid
    .filter((d) => d.kind === 'SourceContract')
    .map((d) => ({ file: d.source.file, document: d.value as SourceContractDocument }));
  const ownerDocs = valid.filter((d) => d.kind === 'Owners').map((d) => d.value as OwnersDocument);
  for (const doc of loaded) problems.push(...doc.problems);
  return { contracts: buildContractSet(sources, ownerDocs), problems: sortProblems(problems) };
}

/**
 * A system takes one enforced contract and, beside it, at most one `mode: shadow` candidate (a new version watched
 * on live traffic). A system whose only contract is `mode: shadow` keeps it as its contract, as before.
 */
function checkSystemContracts(system: string, docs: readonly LoadedDocument[]): void {
  const isShadow = (d: LoadedDocument) => (d.value as { mode?: unknown }).mode === 'shadow';
  const enforced = docs.filter((d) => !isShadow(d));
  const shadows = docs.filter(isShadow);
  for (const doc of enforced.slice(1)) {
    doc.problems.push(
      doc.source.problem(
        ['system'],
        `system: "${system}" already has an enforced contract in ${enforced[0]!.source.file}; a second contract of a system must be its candidate (mode: shadow)`,
      ),
    );
  }
  for (const doc of shadows.slice(1)) {
    doc.problems.push(
      doc.source.problem(
        ['system'],
        `system: "${system}" already has a shadow contract in ${shadows[0]!.source.file}; a system takes at most one shadow candidate`,
      ),
    );
  }
  const candidate = enforced.length > 0 ? shadows[0] : undefined;
  if (candidate === undefined) return;
  // A candidate runs beside the enforced contract and must never alert: an item it marks `mode: enforce` would be a
  // second, competing enforcement of the same system, so it is refused rather than silently run in shadow.
  for (const path of enforcingPaths(candidate.value, [])) {
    candidate.problems.push(
      candidate.source.problem(
        path,
        `${displayPath(path)}: a shadow candidate (beside ${enforced[0]!.source.file}) cannot enforce; remove it or use mode: shadow`,
      ),
    );
  }
}

/** Paths of every `mode: enforce` in a document (drift baselines' `mode` is rolling/pinned, never enforce). */
function enforcingPaths(value: unknown, path: DocPath): DocPath[] {
  if (typeof value !== 'object' || value === null) return [];
  const found: DocPath[] = [];
  for (const [key, child] of Array.isArray(value)
    ? value.map((v, i) => [i, v] as const)
    : Object.entries(value)) {
    if (key === 'mode' && child === 'enforce') found.push([...path, key]);
    else found.push(...enforcingPaths(child, [...path, key]));
  }
  return found;
}

/** Every problem in the contract files, sorted by file, line and column (empty = the contracts lint clean). */
export function lintContracts(files: ReadonlyArray<ContractFile>): LintProblem[] {
  return loadContracts(files).problems;
}

/** Loads contracts for a service: throws ContractLintError listing every problem when they do not lint (fail closed). */
export function loadContractsOrThrow(files: ReadonlyArray<ContractFile>): ContractSet {
  const { contracts, problems } = loadContracts(files);
  if (problems.length > 0) throw new ContractLintError(problems);
  return contracts;
}
