// The CloudFront distribution, as the local edge (src/edge/) behaves:
//   /i/*   images: a CloudFront Function on viewer request sets the accept class of a
//          format=auto URL (x-imgedge-accept); cache key = path + the spec's parameters +
//          that header; the Lambda@Edge function answers 400/301 itself and rewrites for
//          the origin group: S3 v/{id}/{sig}[.{class}] first, the transformer on S3's 403/404;
//   /v1/*  the API, never cached, every viewer header, query and cookie forwarded;
//   /*     the web client from the bucket's web/ prefix (SPA routes rewritten to index.html).
// S3 is read through Origin Access Control; the API and the transformer sit behind an
// internal load balancer reached as a VPC origin, with the origin secret header.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

import { ACCEPT_CLASS_HEADER } from '../../packages/transform-url/src/accept.js';
import { acceptFunctionCode } from './accept-function.js';
import { edgeFunctionBundleDir } from './edge-bundle.js';
import { TRANSFORM_PARAMETERS } from './edge-parameters.js';
import type { RenderBudget } from './render-budget.js';
import { PREFIX } from './storage.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * CloudFront's default quota of query strings in one cache policy ("Query strings per cache
 * policy", adjustable): the /i/* allow-list is longer, so an account needs it raised first.
 */
export const CACHE_POLICY_QUERY_STRINGS_DEFAULT_QUOTA = 10;

/** The header through which an edge proves it is one (src/transformer/mod.rs). */
export const ORIGIN_SECRET_HEADER = 'X-Imgedge-Origin-Secret';

/**
 * The web client's Content-Security-Policy, the local edge's (`CONTENT_SECURITY_POLICY` in
 * src/edge/mod.rs; a test keeps the two equal): its own scripts, styles and API only; images
 * also from blob: (upload previews) and data:; no plugins, no <base>, no framing.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** S3 headers that say nothing to viewers (the variant's metadata included). */
const S3_HEADERS_REMOVED = [
  'x-amz-meta-canonical-query',
  'x-amz-server-side-encryption',
  'x-amz-request-id',
  'x-amz-id-2',
  'x-amz-version-id',
];

export interface DeliveryProps {
  readonly bucket: s3.IBucket;
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  readonly originSecret: secretsmanager.ISecret;
  readonly priceClass: cloudfront.PriceClass;
  /** The transformer's render timeout, from which its origin's read timeout derives. */
  readonly renderBudget: RenderBudget;
}

export class Delivery extends Construct {
  readonly distribution: cloudfront.Distribution;
  readonly edgeFunction: cloudfront.experimental.EdgeFunction;
  readonly acceptFunction: cloudfront.Function;
  readonly imageCachePolicy: cloudfront.CachePolicy;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);

    // No environment variables and no secret: the function only parses and canonicalises.
    // Lambda@Edge runs x86_64 only; 128 MB is the smallest size and plenty for it. Its code
    // is lambda-edge's bundle (one self-contained index.mjs), built here at synthesis.
    this.edgeFunction = new cloudfront.experimental.EdgeFunction(this, 'EdgeFunction', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(edgeFunctionBundleDir()),
      memorySize: 128,
      timeout: Duration.seconds(5),
      description: 'imgedge /i/*: 400 and 301 at the edge, S3 variant key, transformer failover',
    });

    // Viewer request of /i/*: the accept class of a format=auto URL in x-imgedge-accept (and
    // a client's own x-imgedge-accept removed), before the cache lookup. Its code is bundled
    // here from the rule's one implementation (lib/accept-function.ts).
    this.acceptFunction = new cloudfront.Function(this, 'ImageAccept', {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromInline(acceptFunctionCode()),
      comment: 'imgedge /i/*: x-imgedge-accept, the accept class of format=auto',
    });

    this.imageCachePolicy = new cloudfront.CachePolicy(this, 'ImageCachePolicy', {
      comment: 'imgedge /i/*: path + the spec parameters + the accept class; variants are immutable',
      // Exactly the spec's names: anything else (utm_source...) is neither in the key nor
      // forwarded, as the spec's first parsing rule says. 17 names: over CloudFront's default
      // quota of 10 query strings per cache policy, which must be raised before a deploy
      // (cdk/README.md, "Quotas to raise").
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList(...TRANSFORM_PARAMETERS),
      // The accept class, never Accept itself (thousands of distinct values): set by the
      // function above for format=auto URLs only, so other URLs keep one cache entry each.
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList(ACCEPT_CLASS_HEADER),
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      // Origins say how long (variants a year, refusals 10 s); these are the bounds, the
      // local edge's defaults (IMGEDGE_EDGE_*_TTL_SECS).
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.days(1),
      maxTtl: Duration.days(365),
      // Images are compressed already: Accept-Encoding stays out of the key.
      enableAcceptEncodingGzip: false,
      enableAcceptEncodingBrotli: false,
    });

    const responseHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'imgedge: security headers, as the local edge adds them',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: CONTENT_SECURITY_POLICY, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
      },
      removeHeaders: S3_HEADERS_REMOVED,
    });

    // One OAC for both S3 origins; it always signs, so nothing reaches S3 unsigned.
    const oac = new cloudfront.S3OriginAccessControl(this, 'OriginAccessControl', {
      description: 'imgedge: CloudFront reads the media bucket (variants, web client)',
      signing: cloudfront.Signing.SIGV4_ALWAYS,
    });
    // The origins see the bucket through an imported view so that they do not write its
    // policy: their default grants s3:GetObject on every object, originals included. The
    // grant below names the two prefixes the distribution serves.
    const bucketView = s3.Bucket.fromBucketAttributes(this, 'BucketView', {
      bucketArn: props.bucket.bucketArn,
      bucketName: props.bucket.bucketName,
      bucketRegionalDomainName: props.bucket.bucketRegionalDomainName,
    });
    const variants = origins.S3BucketOrigin.withOriginAccessControl(bucketView, {
      originAccessControl: oac,
      originId: 'variants',
      // No retries against S3: a missing variant is a 403 to fail over on, not a fault.
      connectionAttempts: 1,
      connectionTimeout: Duration.seconds(2),
    });
    const web = origins.S3BucketOrigin.withOriginAccessControl(bucketView, {
      originAccessControl: oac,
      originId: 'web',
      originPath: `/${PREFIX.web.replace(/\/$/, '')}`,
    });

    const secretHeader = { [ORIGIN_SECRET_HEADER]: props.originSecret.secretValue.unsafeUnwrap() };
    const backendOrigin = (originId: string, readTimeout: Duration) =>
      origins.VpcOrigin.withApplicationLoadBalancer(props.loadBalancer, {
        originId,
        httpPort: 80,
        // Inside AWS's network (a VPC origin): plain HTTP to an internal load balancer.
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
        customHeaders: secretHeader,
        readTimeout,
      });
    // A variant's first request may wait for another process rendering it, then render it
    // itself: RenderBudget's origin timeout (src/protocol.rs, lib/render-budget.ts), 55 s for
    // the default render timeout. Synthesis fails if it exceeds CloudFront's 60 s maximum.
    const transformer = backendOrigin('transformer', props.renderBudget.originReadTimeout());
    // The API renders no variant and waits for no peer, so RenderBudget does not bound it:
    // its slowest request is an upload (the body within IMGEDGE_UPLOAD_TIMEOUT_MS, then a
    // decode check and the store). It keeps the longest wait CloudFront allows without a
    // quota increase, 60 s, rather than a figure derived from the render timeout.
    const api = backendOrigin('api', Duration.seconds(60));

    const images = new origins.OriginGroup({
      primaryOrigin: variants,
      fallbackOrigin: transformer,
      // S3 answers 403 for a missing key (the distribution may not list the bucket).
      fallbackStatusCodes: [403, 404],
    });

    const spaRewrite = new cloudfront.Function(this, 'SpaRewrite', {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromFile({ filePath: path.join(here, 'functions', 'spa-rewrite.js') }),
      comment: 'imgedge web client: extension-less paths are SPA routes',
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'imgedge',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: web,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: responseHeaders,
        functionAssociations: [
          { function: spaRewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
      additionalBehaviors: {
        '/i/*': {
          origin: images,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
          cachePolicy: this.imageCachePolicy,
          responseHeadersPolicy: responseHeaders,
          compress: false,
          functionAssociations: [
            { function: this.acceptFunction, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
          ],
          edgeLambdas: [
            {
              functionVersion: this.edgeFunction.currentVersion,
              eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST,
            },
            {
              functionVersion: this.edgeFunction.currentVersion,
              eventType: cloudfront.LambdaEdgeEventType.ORIGIN_RESPONSE,
            },
          ],
        },
        '/v1/*': {
          origin: api,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          // Authorization, bodies, queries and cookies all reach the API; Host stays the
          // load balancer's.
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: responseHeaders,
        },
      },
    });

    // Only this distribution reads the bucket, and only what it serves.
    props.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudFrontReadsVariantsAndWebClient',
        effect: iam.Effect.ALLOW,
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: [
          props.bucket.arnForObjects(`${PREFIX.variants}*`),
          props.bucket.arnForObjects(`${PREFIX.web}*`),
        ],
        conditions: { StringEquals: { 'AWS:SourceArn': this.distributionArn } },
      }),
    );
    Annotations.of(this).acknowledgeWarning(
      '@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
      'the bucket policy is written by Delivery itself, scoped to v/* and web/*',
    );
    if (TRANSFORM_PARAMETERS.length > CACHE_POLICY_QUERY_STRINGS_DEFAULT_QUOTA) {
      // Information, not a warning: `cdk synth --strict` fails on warnings, and the quota is
      // the account's, which the template cannot see.
      Annotations.of(this.imageCachePolicy).addInfo(
        `the /i/* cache policy lists ${TRANSFORM_PARAMETERS.length} query strings: raise the account's ` +
          `CloudFront quota "Query strings per cache policy" (default ${CACHE_POLICY_QUERY_STRINGS_DEFAULT_QUOTA}) ` +
          'to at least that before deploying (cdk/README.md)',
      );
    }
  }

  /** `arn:aws:cloudfront::{account}:distribution/{id}`. */
  get distributionArn(): string {
    return Stack.of(this).formatArn({
      service: 'cloudfront',
      region: '',
      resource: 'distribution',
      resourceName: this.distribution.distributionId,
    });
  }
}
