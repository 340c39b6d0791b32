/**
 * The CDK app: one stack per stage. `npx cdk deploy -c stage=dev` (or `prod`);
 * `npm run synth -- -c stage=prod` builds the template offline.
 */
import { App } from 'aws-cdk-lib';
import { ApiStack } from './api-stack.js';
import { stageConfig } from './stages.js';

const app = new App();
const stage = stageConfig(app.node.tryGetContext('stage'));
new ApiStack(app, `NotesApi-${stage.name}`, {
  stage,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
