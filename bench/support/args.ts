/** The value after `name` on the command line (`--events 1000`), or undefined when it is absent. */
export const argValue = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};

/**
 * Node flags for a measured child process: with BENCH_CPU_PROFILE_DIR=<dir> it writes a V8 CPU
 * profile there (where the Node side's time goes); without it, none.
 */
export const cpuProfileFlags = (): string[] => {
  const dir = process.env['BENCH_CPU_PROFILE_DIR'];
  return dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
};
