// The CDK app. Synthesis needs no AWS credentials: the account is the `account` context
// value, else the CLI's current one, else a placeholder; the region is the `region`
// context value, else us-east-1, where Lambda@Edge functions must be created anyway.

import { App } from 'aws-cdk-lib';

import { readSettings } from '../lib/config.js';
import { ImgedgeStack } from '../lib/imgedge-stack.js';

/** A syntactically valid account id for offline synthesis; never deployed to. */
const PLACEHOLDER_ACCOUNT = '123456789012';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === '' ? undefined : String(value);
};

new ImgedgeStack(app, context('stackName') ?? 'Imgedge', {
  env: {
    account: context('account') ?? process.env.CDK_DEFAULT_ACCOUNT ?? PLACEHOLDER_ACCOUNT,
    region: context('region') ?? 'us-east-1',
  },
  settings: readSettings(app.node),
  description: 'imgedge: on-demand image service behind CloudFront',
});
