import { describe, expect, it } from 'vitest';
import { KeyedSerializer } from './service.js';

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe('KeyedSerializer', () => {
  it('runs jobs of one key one at a time in call order, other keys alongside, and survives failures', async () => {
    const s = new KeyedSerializer<number>();
    const events: string[] = [];
    const job =
      (name: string, fail = false) =>
      async () => {
        events.push(`${name}:start`);
        await tick();
        events.push(`${name}:end`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      s.run(1, job('a')),
      s.run(1, job('b', true)),
      s.run(2, job('x')),
      s.run(1, job('c')),
    ]);
    expect(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ).toEqual(['a', 'b', 'x', 'c']);
    const of = (prefix: string) =>
      events.filter((e) => 'abc'.includes(e[0]!) && e.startsWith(prefix));
    expect(events.filter((e) => 'abc'.includes(e[0]!))).toEqual([
      'a:start',
      'a:end',
      'b:start',
      'b:end',
      'c:start',
      'c:end',
    ]);
    expect(of('a')).toEqual(['a:start', 'a:end']);
    // Key 2 did not wait for key 1.
    expect(events.indexOf('x:start')).toBeLessThan(events.indexOf('a:end'));
    await s.idle(1);
  });

  it('idle waits for the jobs queued so far', async () => {
    const s = new KeyedSerializer<string>();
    let done = false;
    void s.run('k', async () => {
      await tick();
      done = true;
    });
    await s.idle('k');
    expect(done).toBe(true);
    await s.idle('never-used');
  });
});
