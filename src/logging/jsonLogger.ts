/**
 * Structured logs: the `Logger` every module writes to, and its JSON-lines implementation for the
 * projector and the CLIs (the Lambdas implement it with Powertools:
 * src/adapters/powertools/powertoolsTelemetry.ts). One JSON object per line so a log shipper can
 * index the fields, and never an email address, even one hiding in an error message.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const EMAIL_ANYWHERE = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[^\s@"'<>(),;:]+/g;

export const redactEmails = (text: string): string => text.replace(EMAIL_ANYWHERE, '[redacted-email]');

// bigint and Error do not survive JSON.stringify on their own.
const replacer = (_key: string, value: unknown): unknown => {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, ...('code' in value ? { code: value.code } : {}), stack: value.stack };
  return value;
};

export const createJsonLogger = (component: string, level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line)): Logger => {
  const threshold = RANK[level];
  const log =
    (at: LogLevel) =>
    (message: string, fields: LogFields = {}): void => {
      if (RANK[at] < threshold) return;
      const line = JSON.stringify({ time: new Date().toISOString(), level: at, component, message, ...fields }, replacer);
      write(`${redactEmails(line)}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
};

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
