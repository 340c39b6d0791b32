import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one structured JSON logger (Powertools). Level from `POWERTOOLS_LOG_LEVEL`, service name
 * from `POWERTOOLS_SERVICE_NAME`. Never log tokens, passwords or request bodies.
 */
export const logger = new Logger({ serviceName: 'api' });
