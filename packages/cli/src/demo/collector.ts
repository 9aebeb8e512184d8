// Reads the demo's output topics (findings, alerts, tickets, DLQ) into the live counters and the run's files.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Consumer, Kafka } from 'kafkajs';
import type { Finding } from '@tidemark/core';
import type { DemoLayout } from './layout.js';
import { DemoComponentFailed } from './processes.js';
import type { DemoCounters } from './view.js';

/** A record of the run's DLQ topic. */
export interface DeadLetter {
  key: string;
  headers: Record<string, string>;
}

/** Reads the run's output topics from the start into counters and memory. */
export class OutputCollector {
  readonly findings: Finding[] = [];
  readonly dlq: DeadLetter[] = [];
  lastOutputAt = Date.now();
  readonly #lines = new Map<string, string[]>();
  #consumer: Consumer | undefined;
  #crash: Error | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly layout: DemoLayout,
    private readonly counters: DemoCounters,
    private readonly out: string,
  ) {}

  async start(): Promise<void> {
    const t = this.layout.topics;
    const consumer = this.kafka.consumer({
      groupId: `tidemark-demo-view-${this.layout.runId}`,
      maxWaitTimeInMs: 250,
      // A restarted kafkajs consumer can be left dead in a live process (tulios/kafkajs#1529): fail the run instead.
      retry: { retries: 8, restartOnFailure: async () => false },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.#crash = payload.error;
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [t.findings, t.alerts, t.tickets, t.dlq],
      fromBeginning: true,
    });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        this.lastOutputAt = Date.now();
        const text = message.value?.toString() ?? '';
        const file =
          topic === t.findings
            ? 'findings'
            : topic === t.alerts
              ? 'alerts'
              : topic === t.tickets
                ? 'tickets'
                : 'dlq';
        if (file === 'dlq') {
          this.counters.dlq++;
          const headers = Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString() ?? '']),
          );
          this.dlq.push({ key: message.key?.toString() ?? '', headers });
          this.#push(
            file,
            JSON.stringify({ key: message.key?.toString() ?? null, value: text, headers }),
          );
          return;
        }
        this.#push(file, text);
        const data = (JSON.parse(text) as { data: Record<string, unknown> }).data;
        if (file === 'findings') {
          const finding = data as unknown as Finding;
          this.findings.push(finding);
          const n = this.counters.findingsByCheck.get(finding.check) ?? { firing: 0, resolved: 0 };
          n[finding.status]++;
          this.counters.findingsByCheck.set(finding.check, n);
        } else if (file === 'alerts') {
          this.counters.alerts[data['status'] === 'resolved' ? 'resolved' : 'firing']++;
        } else {
          const action = data['action'] as 'open' | 'update' | 'resolve';
          this.counters.tickets[action]++;
        }
      },
    });
  }

  /** Throws DemoComponentFailed when the consumer crashed. */
  checkAlive(): void {
    if (this.#crash)
      throw new DemoComponentFailed(
        'the consumer of the output topics',
        `crashed: ${this.#crash.message}`,
        {
          cause: this.#crash,
        },
      );
  }

  #push(file: string, line: string): void {
    const lines = this.#lines.get(file) ?? [];
    lines.push(line);
    this.#lines.set(file, lines);
  }

  writeFiles(): void {
    for (const file of ['findings', 'alerts', 'tickets', 'dlq']) {
      const lines = this.#lines.get(file) ?? [];
      writeFileSync(
        path.join(this.out, `${file}.jsonl`),
        lines.length > 0 ? `${lines.join('\n')}\n` : '',
      );
    }
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect();
  }
}
