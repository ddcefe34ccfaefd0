// The one bucket: originals (o/), variants (v/) and the web client (web/), all private.
// Nothing in it is public and no signed S3 URL is ever handed out: viewers reach variants
// and the web client only through the distribution (see Delivery), the roles reach it with
// their task roles.

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Key prefixes, as the spec and the roles name them. */
export const PREFIX = {
  originals: 'o/',
  variants: 'v/',
  web: 'web/',
} as const;

export class MediaBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // ACLs disabled: access is decided by policies only.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Uploads are single PUTs today; a multipart upload left behind would cost storage
      // without ever becoming an object.
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      // Originals are the users' data: a stack deletion must not take them along.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
