// Escalation targets are names of routing.yaml receivers written in the Owners file and in contracts; this
// checks them against routing.yaml, so a typo fails `tidemark contracts lint` instead of escalating nowhere.
import { isMap, isScalar, isSeq } from 'yaml';
import { parseSource } from '@tidemark/contracts';
import type { ContractFile, LintProblem, SourceDocument } from '@tidemark/contracts';
import { isTicketReceiver } from './config.js';
import type { RoutingConfig } from './config.js';

/**
 * Every `escalation: { receiver }` in the contract files (Owners teams, contract and content-class owners)
 * whose receiver routing.yaml does not define, or defines as a tickets receiver (escalations notify), at the
 * receiver's file:line:column. Files that do not parse are left to the contract lint.
 */
export function lintEscalations(
  config: RoutingConfig,
  files: ReadonlyArray<ContractFile>,
): LintProblem[] {
  const problems: LintProblem[] = [];
  for (const file of files) {
    const { documents, problems: unparsable } = parseSource(file.path, file.text);
    if (unparsable.length === 0)
      for (const source of documents) problems.push(...documentProblems(config, source));
  }
  return problems;
}

function documentProblems(config: RoutingConfig, source: SourceDocument): LintProblem[] {
  const problems: LintProblem[] = [];
  const visit = (node: unknown, path: string): void => {
    if (isSeq(node)) node.items.forEach((item, i) => visit(item, `${path}[${i}]`));
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const here = path ? `${path}.${key}` : key;
      if (key === 'escalation' && isMap(pair.value)) {
        const receiver = pair.value.get('receiver', true);
        if (isScalar(receiver) && typeof receiver.value === 'string') {
          const name = receiver.value;
          const defined = config.receivers.get(name);
          const message = !defined
            ? `${here}.receiver: "${name}" is not a receiver in ${config.file}`
            : isTicketReceiver(defined)
              ? `${here}.receiver: "${name}" is a ${defined.kind} receiver in ${config.file}; an escalation needs an alerts or webhook receiver`
              : undefined;
          if (message) problems.push(source.problemAt(receiver.range?.[0] ?? 0, message));
        }
      }
      visit(pair.value, here);
    }
  };
  visit(source.doc.contents, '');
  return problems;
}
