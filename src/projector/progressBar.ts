/**
 * A one-line progress bar on a TTY (redrawn at most every 100 ms); silent elsewhere, so that
 * scripts and logs get only the final answer.
 */
export interface ProgressBar {
  update(done: number, total: number | null, detail?: string): void;
  finish(): void;
}

const WIDTH = 30;

export const createProgressBar = (label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar => {
  const started = Date.now();
  let drawn = 0;
  let visible = false;
  if (!stream.isTTY) return { update: () => undefined, finish: () => undefined };
  return {
    update(done, total, detail = '') {
      const now = Date.now();
      if (now - drawn < 100 && (total === null || done < total)) return;
      drawn = now;
      const ratio = total === null || total === 0 ? null : Math.min(1, done / total);
      const bar = ratio === null ? '' : `[${'#'.repeat(Math.round(ratio * WIDTH)).padEnd(WIDTH, '.')}] ${(ratio * 100).toFixed(1).padStart(5)}% `;
      const rate = Math.round(done / Math.max(0.001, (now - started) / 1000));
      stream.write(`\r${label} ${bar}${done.toLocaleString('en')}${total === null ? '' : `/${total.toLocaleString('en')}`} (${rate.toLocaleString('en')}/s) ${detail}\x1b[K`);
      visible = true;
    },
    finish() {
      if (visible) stream.write('\n');
      visible = false;
    },
  };
};
