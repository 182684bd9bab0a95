/** Structured JSON logs for the Lambdas: one object per line, and never an email address. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface HttpLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const EMAIL_ANYWHERE = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[^\s@"'<>(),;:]+/g;

/** Personal data stays out of the logs even when it hides in an error message. */
export const redactEmails = (text: string): string => text.replace(EMAIL_ANYWHERE, '[redacted-email]');

const replacer = (_key: string, value: unknown): unknown => {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
};

export const createHttpLogger = (level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line)): HttpLogger => {
  const threshold = RANK[level];
  const log =
    (at: LogLevel) =>
    (message: string, fields: LogFields = {}): void => {
      if (RANK[at] < threshold) return;
      const line = JSON.stringify({ time: new Date().toISOString(), level: at, component: 'http', message, ...fields }, replacer);
      write(`${redactEmails(line)}\n`);
    };
  return { info: log('info'), warn: log('warn'), error: log('error') };
};
