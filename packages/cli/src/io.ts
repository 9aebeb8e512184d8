/** Where commands print; injected so tests can capture it. */
export interface Output {
  info(line: string): void;
  error(line: string): void;
  /** Sets the process exit code without exiting (so cleanup still runs). */
  exitCode(code: number): void;
}

/** The process's stdout/stderr. */
export const processOutput: Output = {
  info: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
  exitCode: (code) => {
    process.exitCode = Math.max(Number(process.exitCode ?? 0), code);
  },
};
