// State format of changelog records: the host stamps every record with `tidemark-state-format`, reads records
// without it (written before it existed) as format 1, and refuses to restore a record in a newer format (exit 2)
// instead of building wrong state from it.
import { describe, expect, it } from 'vitest';
import {
  contentEvent,
  createTopics,
  echoEnv,
  echoHarness,
  echoTopics,
  produce,
} from './helpers.js';
import type { EchoOutput } from '@tidemark/runtime/testing';

const { start, collect } = echoHarness();

describe('runtime changelog state format', () => {
  it('restores a changelog written before the header as format 1 and stamps what it writes', async () => {
    const t = await echoTopics('format-old', 1);
    const changelog = `tidemark.${t.service}.state`;
    await createTopics([changelog], 1, true);
    // As a version before the header wrote it: the count of wiki/doc-a is 4.
    await produce(changelog, [{ key: 'wiki/doc-a', value: '4', partition: 0 }]);
    await produce(t.input, [contentEvent('a-1', 'doc-a')]);
    const out = await collect([t.output, changelog]);
    const s = start(echoEnv(t));
    await out.waitFor('1 echo', () => out.on(t.output).length >= 1);
    expect(out.json<EchoOutput>(t.output).map((e) => e.count)).toEqual([5]);
    await out.waitFor('the new count and the offsets marker in the changelog', () =>
      out.on(changelog).some((r) => r.key === '__tidemark.offsets'),
    );
    const written = out.on(changelog).filter((r) => !r.key?.startsWith('__tidemark.barrier'));
    expect(
      written.map((r) => [r.key, r.value?.toString(), r.headers['tidemark-state-format']]),
    ).toEqual([
      ['wiki/doc-a', '4', undefined],
      ['wiki/doc-a', '5', '1'],
      ['__tidemark.offsets', `{"${t.input}":"1"}`, '1'],
    ]);
    s.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('refuses a changelog record in a newer state format: exit 2 naming topic, partition and formats', async () => {
    const t = await echoTopics('format-new', 2);
    const changelog = `tidemark.${t.service}.state`;
    await createTopics([changelog], 2, true);
    await produce(changelog, [
      { key: 'wiki/doc-a', value: '4', partition: 0, headers: { 'tidemark-state-format': '1' } },
      { key: 'wiki/doc-b', value: '{"v":2}', partition: 1 },
      {
        key: 'wiki/doc-c',
        value: '{"v":2}',
        partition: 1,
        headers: { 'tidemark-state-format': '2' },
      },
    ]);
    const s = start(echoEnv(t));
    expect(await s.exited).toBe(2);
    const fatal = JSON.stringify(s.logs.find((l) => l.msg === 'state restore failed; exiting'));
    expect(fatal).toContain(
      `the state changelog ${changelog}[1] holds a record in state format 2 at offset 1; this version of ${t.service} reads state formats 1 to 1`,
    );
    expect(fatal).toContain(`tidemark state reset ${t.service} --yes`);
    expect(fatal).toContain('"type":"StateFormatError"');
  });
});
