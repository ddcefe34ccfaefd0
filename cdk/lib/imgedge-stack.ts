// imgedge on AWS: one stack in us-east-1 (where Lambda@Edge functions are created), wiring
// the constructs in dependency order: network and storage, secrets and data, the load
// balancer, the distribution in front of it, then the services that need the
// distribution's name.

import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type { Construct } from 'constructs';

import { Backend, Ingress } from './backend.js';
import { availabilityZones, type Settings } from './config.js';
import { Data } from './data.js';
import { Delivery } from './delivery.js';
import { Network } from './network.js';
import { RenderBudget } from './render-budget.js';
import { AppSecrets } from './secrets.js';
import { MediaBucket, PREFIX } from './storage.js';

export interface ImgedgeStackProps extends StackProps {
  readonly settings: Settings;
}

const PRICE_CLASSES: Record<Settings['priceClass'], cloudfront.PriceClass> = {
  '100': cloudfront.PriceClass.PRICE_CLASS_100,
  '200': cloudfront.PriceClass.PRICE_CLASS_200,
  All: cloudfront.PriceClass.PRICE_CLASS_ALL,
};

export class ImgedgeStack extends Stack {
  readonly media: MediaBucket;
  readonly delivery: Delivery;
  readonly backend: Backend;
  readonly secrets: AppSecrets;
  private readonly zones: string[];

  constructor(scope: Construct, id: string, props: ImgedgeStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.zones = availabilityZones(settings);
    // One render timeout: the transformer renders by it, CloudFront waits for it.
    const renderBudget = new RenderBudget(settings.renderTimeoutMs);

    const network = new Network(this, 'Network', { natGateways: settings.natGateways });
    this.media = new MediaBucket(this, 'Media');
    this.secrets = new AppSecrets(this, 'Secrets', { jwtKeysSecretName: settings.jwtKeysSecretName });
    const data = new Data(this, 'Data', {
      vpc: network.vpc,
      dbInstanceType: settings.dbInstanceType,
      dbAllocatedStorageGiB: settings.dbAllocatedStorageGiB,
      dbMultiAz: settings.dbMultiAz,
      cacheNodeType: settings.cacheNodeType,
    });
    const ingress = new Ingress(this, 'Ingress', {
      vpc: network.vpc,
      cloudFrontPrefixListId: settings.cloudFrontPrefixListId,
    });
    this.delivery = new Delivery(this, 'Delivery', {
      bucket: this.media.bucket,
      loadBalancer: ingress.loadBalancer,
      originSecret: this.secrets.originSecret,
      priceClass: PRICE_CLASSES[settings.priceClass],
      renderBudget,
    });
    this.backend = new Backend(this, 'Backend', {
      settings,
      renderBudget,
      vpc: network.vpc,
      taskSubnets: network.taskSubnets,
      assignPublicIp: network.tasksNeedPublicIp,
      ingress,
      secrets: this.secrets,
      data,
      bucket: this.media.bucket,
      distributionId: this.delivery.distribution.distributionId,
      distributionDomainName: this.delivery.distribution.distributionDomainName,
      distributionArn: this.delivery.distributionArn,
    });

    const domain = this.delivery.distribution.distributionDomainName;
    new CfnOutput(this, 'Url', { value: `https://${domain}`, description: 'the service: web client, /v1 API, /i images' });
    new CfnOutput(this, 'DistributionId', { value: this.delivery.distribution.distributionId });
    new CfnOutput(this, 'BucketName', { value: this.media.bucket.bucketName });
    new CfnOutput(this, 'WebClientUpload', {
      value: `aws s3 sync web/dist s3://${this.media.bucket.bucketName}/${PREFIX.web} --delete`,
      description: 'uploads the built web client',
    });
  }

  /**
   * The zones the VPC spreads over: the default getter of a stack with an account looks
   * them up, which synthesis without credentials cannot do.
   */
  override get availabilityZones(): string[] {
    return this.zones;
  }
}
