/**
 * The local stack for the load test, in a process of its own, started as `npm run dev` starts
 * it (`infra/local/dev.ts`): SQS (fauxqs) with the event source mappings and the schedules,
 * SES (aws-ses-v2-local on a free port), then the API Gateway emulation serving every route on a free port of 127.0.0.1. The
 * database (migrated), Redis behind the REST bridge (a process of its own) and the signing
 * keys come from the bench through the environment (`DATABASE_URL`, `REDIS_REST_*`,
 * `JWT_*`). Started by `bench/load.ts`; its ready value is `{ url }`.
 */
import { startGateway } from '../infra/local/gateway.js';
import { startLocalMail } from '../infra/local/ses.js';
import { startEventSourceMappings, startLocalQueues } from '../infra/local/sqs.js';
import { getConfig } from '../shared/config.js';
import { closeSql } from '../shared/db/client.js';
import { serveParent } from './children.js';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

await serveParent(async () => {
  const queues = await startLocalQueues();
  const mail = await startLocalMail();
  Object.assign(process.env, queues.env, mail.env);
  getConfig(); // a bad environment fails the start, not the first request
  const mappings = startEventSourceMappings(queues, {
    onError: (error) => console.error('worker:', messageOf(error)),
  });
  const gateway = await startGateway({ port: 0 });
  return {
    ready: { url: gateway.url },
    stop: async () => {
      await gateway.close();
      await mappings.stop();
      await queues.stop();
      await mail.stop();
      await closeSql();
    },
  };
});
