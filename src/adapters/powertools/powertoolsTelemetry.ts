import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { HttpTelemetry } from '#http/httpHandler';
import type { AnsweredRequest, RequestMetrics } from '#http/requestMetrics';
import { redactEmails, type LogFields, type Logger, type LogLevel } from '#logging/jsonLogger';

/**
 * The Lambdas' logs and metrics through Powertools for AWS Lambda (TypeScript):
 *
 * - logs: Powertools' JSON lines (level, message, timestamp, service, the Lambda context and
 *   cold start, the X-Ray trace id) with our fields beside them; every string in a line, a
 *   formatted error's message and stack included, has its email addresses redacted first.
 * - metrics: CloudWatch EMF, namespace `Chronicle`, dimensions `service`, `Stage` and `route`:
 *   `Requests`, `ServerErrors` (answers of 500 and above, which Lambda's Errors metric never
 *   counts because the error mapping answers them) and `StaleReads` (a read-your-writes wait
 *   that ran out); plus Powertools' `ColdStart`. Flushed once per invocation.
 *
 * Neither package needs the AWS SDK: they write to stdout, and CloudWatch Logs does the rest.
 */
export const METRICS_NAMESPACE = 'Chronicle';

export interface LambdaTelemetryOptions {
  /** The `component` field of every log line. */
  readonly component: string;
  readonly level: LogLevel;
  /** The `Stage` dimension. */
  readonly stage: string;
  /** Defaults to POWERTOOLS_SERVICE_NAME, which the deployment sets. */
  readonly serviceName?: string;
  /** No EMF at all (default: POWERTOOLS_METRICS_DISABLED=true, as `npm start` and the in-process harness set). */
  readonly metricsDisabled?: boolean;
}

export interface LambdaTelemetry {
  readonly logger: Logger;
  readonly http: HttpTelemetry;
}

// Runs before Powertools' own rules (Error → object, bigint → string), and again on what they return.
const redactingReplacer = (_key: string, value: unknown): unknown => (typeof value === 'string' ? redactEmails(value) : value);

const LEVELS = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' } as const;

export const createLambdaTelemetry = (options: LambdaTelemetryOptions): LambdaTelemetry => {
  const service = options.serviceName === undefined ? {} : { serviceName: options.serviceName };
  const powertoolsLogger = new PowertoolsLogger({
    ...service,
    logLevel: LEVELS[options.level],
    persistentKeys: { component: options.component },
    jsonReplacerFn: redactingReplacer,
  });
  const metrics = new Metrics({ ...service, namespace: METRICS_NAMESPACE, defaultDimensions: { Stage: options.stage } });

  const logger: Logger = {
    debug: (message: string, fields?: LogFields) => powertoolsLogger.debug(message, { ...fields }),
    info: (message: string, fields?: LogFields) => powertoolsLogger.info(message, { ...fields }),
    warn: (message: string, fields?: LogFields) => powertoolsLogger.warn(message, { ...fields }),
    error: (message: string, fields?: LogFields) => powertoolsLogger.error(message, { ...fields }),
  };

  const requestMetrics: RequestMetrics = {
    answered({ route, status, stale }: AnsweredRequest) {
      metrics.addDimension('route', route);
      metrics.addMetric('Requests', MetricUnit.Count, 1);
      metrics.addMetric('ServerErrors', MetricUnit.Count, status >= 500 ? 1 : 0);
      if (stale) metrics.addMetric('StaleReads', MetricUnit.Count, 1);
    },
  };

  // Disabled, nothing is collected or flushed: Powertools would still warn on every flush of an
  // empty set, and where invocations overlap in one process (never on Lambda) on every dimension.
  const metricsDisabled = options.metricsDisabled ?? process.env['POWERTOOLS_METRICS_DISABLED'] === 'true';
  return {
    logger,
    http: {
      // Outermost: the Lambda context is in every line of the invocation, and the metrics are
      // flushed after everything else has run.
      middlewares: metricsDisabled ? [injectLambdaContext(powertoolsLogger)] : [injectLambdaContext(powertoolsLogger), logMetrics(metrics, { captureColdStartMetric: true })],
      metrics: metricsDisabled ? { answered: () => undefined } : requestMetrics,
    },
  };
};
