// Row: the alert-router's output topic (alerts) deleted while it runs. The router stops with exit 2 naming
// the topic (never a silent stall); it cannot start while the topic is missing; once an operator recreates
// the topic, the supervised router comes back and the pipeline drains with nothing lost upstream.
import { describe, expect, it } from 'vitest';
import { poll } from './cluster.js';
import { reportCounts } from './report.js';
import { pipelineRow, PORTS } from './rows.js';

describe('fault suite', () => {
  it('output topic deleted while running', async (ctx) => {
    await pipelineRow(ctx, {
      port: PORTS.shared,
      fault: async ({ cluster, pipeline }) => {
        const router = pipeline.router!;
        await cluster.admin((admin) => admin.deleteTopics({ topics: [pipeline.t.alerts] }));
        await poll('the alert-router to exit', async () => router.exits.length > 0, 60_000, 200);
        const exit = router.exits[0]!;
        reportCounts(ctx, { routerExit: exit.code ?? String(exit.signal) });
        expect(exit.code).toBe(2);
        expect(`${exit.last} ${exit.stderr}`).toContain(pipeline.t.alerts);
        await cluster.createTopics([pipeline.t.alerts]);
      },
    });
  });
});
