import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Agenda } from './heap.js';

describe('Agenda', () => {
  it('pops in (time, insertion) order, however pushes and pops interleave', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant(-1)), { maxLength: 300 }),
        (ops) => {
          const agenda = new Agenda<{ time: number; seq: number }>();
          const model: Array<{ time: number; seq: number }> = [];
          let seq = 0;
          for (const op of ops) {
            if (op >= 0) {
              agenda.push({ time: op, seq });
              model.push({ time: op, seq: seq++ });
            } else {
              model.sort((a, b) => a.time - b.time || a.seq - b.seq);
              expect(agenda.pop()).toEqual(model.shift());
            }
            expect(agenda.size).toBe(model.length);
          }
          model.sort((a, b) => a.time - b.time || a.seq - b.seq);
          expect(agenda.peek()).toEqual(model[0]);
          for (const expected of model) expect(agenda.pop()).toEqual(expected);
          expect(agenda.pop()).toBeUndefined();
        },
      ),
    );
  });
});
