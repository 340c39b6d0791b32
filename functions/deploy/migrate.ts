import { migrateOnDeploy } from '../../shared/db/deploy.js';

/**
 * Deploy-time trigger (CDK `Trigger`, invoked with `{}` before the API functions are
 * updated): migrations up, then the application role and its grants.
 */
export const handler = async (): Promise<{ applied: string[]; role: string }> => migrateOnDeploy();
