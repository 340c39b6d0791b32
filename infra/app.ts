/**
 * The CDK app: one stack per stage. `npx cdk deploy -c stage=dev` (or `prod`);
 * `npm run synth -- -c stage=prod` builds the template offline. cdk-nag's AwsSolutions
 * rules check every synth; acknowledged findings and their reasons are in `infra/nag.ts`.
 */
import { App } from 'aws-cdk-lib';
import { ApiStack } from './api-stack.js';
import { checkWithNag } from './nag.js';
import { stageConfig } from './stages.js';

const app = new App();
const stage = stageConfig(app.node.tryGetContext('stage'), {
  domainName: app.node.tryGetContext('domainName'),
  certificateArn: app.node.tryGetContext('certificateArn'),
});
const stack = new ApiStack(app, `NotesApi-${stage.name}`, {
  stage,
  ...(stage.account || stage.region
    ? { env: { account: stage.account, region: stage.region } }
    : {}),
});
checkWithNag(app, stack);
