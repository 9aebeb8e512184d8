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
  it('changelog deleted between runs', async (ctx) => {
    await withBroker(PORTS.shared, async ({ cluster }) => {
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

        // Started again (as a supervisor would, twice): each start refuses, none accepts the loss silently.
        const started = Date.now();
        const attempts: Array<{ code: number | null | 'running'; said: string }> = [];
        for (let i = 0; i < 2; i++) {
          const p = new FaultService('freshness-monitor', pipeline.checkerProcessEnv());
          onTestFailed(() => p.dump());
          const code = await Promise.race([
            p.exited,
            new Promise<'running'>((r) => setTimeout(() => r('running'), 60_000)),
          ]);
          await p.terminate();
          // runMain logs the reason as its fatal JSON line; stderr carries anything printed before the logger.
          const said = `${JSON.stringify(p.logs.filter((l) => l.level === 'fatal'))} ${p.stderr}`;
          attempts.push({ code, said });
        }
        reportCounts(ctx, {
          changelogRecords: before ?? 0,
          exits: attempts.map((a) => String(a.code)).join(','),
          exitS: ((Date.now() - started) / 1000 / attempts.length).toFixed(1),
        });
        for (const a of attempts) {
          expect(a.code).toBe(2);
          expect(a.said).toContain(`tidemark state reset ${pipeline.t.checker}`);
        }
      } finally {
        await pipeline.stop();
      }
    });
  });
});
