// Row: the checker's changelog topic deleted between two runs while its group's committed offsets remain.
// Starting again must not silently recreate an empty changelog (state lost without a word): the service
// stops with exit 2 and tells the operator to accept the loss explicitly with `tidemark state reset`.
import { describe, expect, it, onTestFailed } from 'vitest';
import { poll } from './cluster.js';
import { Load, Pipeline, waitDrained } from './pipeline.js';
import { reportCounts } from './report.js';
import { PORTS, withBroker } from './rows.js';
import { FaultService } from './service.js';

describe('fault suite', () => {
  // The body is the row as it should pass; `todo` until the runtime detects a recreated changelog.
  it.todo(
    'changelog deleted between runs — todo: no recreated-changelog detection in the runtime yet (starts with empty state instead of exit 2)',
    async (ctx) => {
      await withBroker(PORTS.changelog, async ({ cluster }) => {
        const pipeline = await Pipeline.create(cluster);
        onTestFailed(() => pipeline.dump());
        const changelog = `tidemark.${pipeline.t.checker}.state`;
        try {
          const first = await pipeline.startChecker();
          const load = new Load(cluster, pipeline.t);
          await load.run({ lost: 300, kept: 100, poison: 0 }, 1_000);
          await waitDrained(pipeline);
          await first.stop();
          const [before] = await cluster.admin((admin) =>
            admin
              .fetchTopicOffsets(changelog)
              .then((o) => [o.reduce((n, p) => n + Number(p.high), 0)]),
          );
          await cluster.admin((admin) => admin.deleteTopics({ topics: [changelog] }));
          await poll('the changelog to be gone', () =>
            cluster.admin(async (admin) => !(await admin.listTopics()).includes(changelog)),
          );

          const second = new FaultService('freshness-monitor', pipeline.checkerProcessEnv());
          onTestFailed(() => second.dump());
          const started = Date.now();
          const code = await Promise.race([
            second.exited,
            new Promise<'running'>((r) => setTimeout(() => r('running'), 60_000)),
          ]);
          reportCounts(ctx, {
            changelogRecords: before ?? 0,
            exit: String(code),
            exitS: ((Date.now() - started) / 1000).toFixed(1),
          });
          await second.terminate();
          expect(code).toBe(2);
          expect(second.stderr).toContain('tidemark state reset');
          expect(second.stderr).toContain(pipeline.t.checker);
          // Not recreated behind the operator's back.
          expect(await cluster.admin((admin) => admin.listTopics())).not.toContain(changelog);
        } finally {
          await pipeline.stop();
        }
      });
    },
  );
});
