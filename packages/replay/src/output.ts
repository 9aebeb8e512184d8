import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** The files a replay writes. */
export const REPLAY_FILES = [
  'findings.jsonl',
  'alerts.jsonl',
  'tickets.jsonl',
  'dlq.jsonl',
  'summary.json',
] as const;
/** One of REPLAY_FILES. */
export type ReplayFile = (typeof REPLAY_FILES)[number];

/** Where a replay writes its files; `directoryOutput` writes a directory, `memoryOutput` keeps them for tests. */
export interface ReplayOutput {
  /** Appends one line (a newline is added) to a file. */
  write(file: ReplayFile, line: string): void;
  /** Lets buffered lines reach their destination; replay awaits it now and then, so output cannot pile up. */
  flush(): Promise<void>;
  /** Writes what is left and releases the files. */
  close(): Promise<void>;
}

/** Bytes buffered per file before flush() writes them. */
const FLUSH_BYTES = 1 << 20;

/**
 * Writes a replay's files into `dir` (created if missing; existing files of the same names are replaced). Lines are
 * buffered and written in large chunks; every file exists after close, empty when nothing went to it.
 */
export async function directoryOutput(dir: string): Promise<ReplayOutput> {
  await mkdir(dir, { recursive: true });
  const handles = new Map<ReplayFile, FileHandle>();
  try {
    for (const file of REPLAY_FILES) handles.set(file, await open(join(dir, file), 'w'));
  } catch (error) {
    await Promise.all([...handles.values()].map((h) => h.close()));
    throw error;
  }
  const pending = new Map<ReplayFile, string[]>(REPLAY_FILES.map((f) => [f, []]));
  const sizes = new Map<ReplayFile, number>(REPLAY_FILES.map((f) => [f, 0]));
  const writeOut = async (file: ReplayFile): Promise<void> => {
    const lines = pending.get(file)!;
    if (lines.length === 0) return;
    pending.set(file, []);
    sizes.set(file, 0);
    await handles.get(file)!.write(lines.join(''));
  };
  return {
    write(file, line) {
      pending.get(file)!.push(`${line}\n`);
      sizes.set(file, sizes.get(file)! + line.length + 1);
    },
    async flush() {
      for (const file of REPLAY_FILES) if (sizes.get(file)! >= FLUSH_BYTES) await writeOut(file);
    },
    async close() {
      try {
        for (const file of REPLAY_FILES) await writeOut(file);
      } finally {
        await Promise.all([...handles.values()].map((h) => h.close()));
      }
    },
  };
}

/** A ReplayOutput in memory, with the lines each file received. */
export interface MemoryOutput extends ReplayOutput {
  /** Lines written to `file`, in order. */
  lines(file: ReplayFile): readonly string[];
  /** A file's content as it would be on disk. */
  text(file: ReplayFile): string;
}

/** Keeps a replay's files in memory (tests, backtests, embedding). */
export function memoryOutput(): MemoryOutput {
  const files = new Map<ReplayFile, string[]>(REPLAY_FILES.map((f) => [f, []]));
  return {
    write(file, line) {
      files.get(file)!.push(line);
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    lines: (file) => files.get(file)!,
    text: (file) =>
      files
        .get(file)!
        .map((l) => `${l}\n`)
        .join(''),
  };
}
