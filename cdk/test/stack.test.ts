// What the stack must guarantee, read from its synthesised template.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';

import { Annotations, Match } from 'aws-cdk-lib/assertions';

import { acceptFunctionCode, CLOUDFRONT_FUNCTION_MAX_BYTES } from '../lib/accept-function.js';
import { EDGE_FUNCTION_BUNDLE, EDGE_FUNCTION_BUNDLE_DIR } from '../lib/edge-bundle.js';
import { DEFAULT_RENDER_TIMEOUT_MS, RenderBudget } from '../lib/render-budget.js';
import { all, flat, only, parameterNamesFromVectors, synth, type Json, type Synthesised } from './template.js';

const s = synth();
const bucket = only(s, 'AWS::S3::Bucket');
const distribution = only(s, 'AWS::CloudFront::Distribution');
const config = distribution.props.DistributionConfig as Json;
const defaultBehaviour = () => config.DefaultCacheBehavior as Json;
const behaviour = (pattern: string) =>
  (config.CacheBehaviors as Json[]).find((b) => b.PathPattern === pattern) ?? assert.fail(pattern);
const origin = (id: string) =>
  (config.Origins as Json[]).find((o) => o.Id === id) ?? assert.fail(`origin ${id}`);
const distributionArn = `arn:\${AWS::Partition}:cloudfront::123456789012:distribution/\${${distribution.id}}`;
/** The CloudFront Function a behaviour's viewer-request association names. */
const viewerRequestFunction = (b: Json) => {
  const associations = (b.FunctionAssociations as Json[] | undefined) ?? [];
  assert.deepEqual(associations.map((a) => a.EventType), ['viewer-request']);
  const arn = flat(associations[0]?.FunctionARN);
  const fn = all(s, 'AWS::CloudFront::Function').find(({ id }) => arn === `\${${id}.FunctionARN}`);
  return fn ?? assert.fail(`no CloudFront Function for ${arn}`);
};

/** The statements of the inline policies attached to the role whose id starts so. */
function roleStatements(rolePrefix: string): Json[] {
  return all(s, 'AWS::IAM::Policy')
    .filter((p) => (p.props.Roles as Json[]).some((r) => String(r.Ref).startsWith(rolePrefix)))
    .flatMap((p) => (p.props.PolicyDocument as Json).Statement as Json[]);
}
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

describe('the bucket', () => {
  test('blocks every public access path and is encrypted', () => {
    assert.deepEqual(bucket.props.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    assert.deepEqual(bucket.props.OwnershipControls, {
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
        ],
      },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } })],
      },
    });
    assert.equal(bucket.props.WebsiteConfiguration, undefined, 'no website endpoint');
    assert.equal(bucket.props.AccessControl, undefined, 'no canned ACL');
  });

  test('refuses plain HTTP', () => {
    const policy = only(s, 'AWS::S3::BucketPolicy').props.PolicyDocument as Json;
    assert.ok(
      (policy.Statement as Json[]).some(
        (st) =>
          st.Effect === 'Deny' &&
          st.Action === 's3:*' &&
          JSON.stringify(st.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
      ),
    );
  });

  test("only this distribution's service principal reads it, and only v/* and web/*", () => {
    const policy = only(s, 'AWS::S3::BucketPolicy').props.PolicyDocument as Json;
    const allows = (policy.Statement as Json[]).filter((st) => st.Effect === 'Allow');
    assert.equal(allows.length, 1);
    const [grant] = allows as [Json];
    assert.deepEqual(grant.Principal, { Service: 'cloudfront.amazonaws.com' });
    assert.equal(grant.Action, 's3:GetObject');
    assert.deepEqual(
      list(grant.Resource).map(flat).sort(),
      [`\${${bucket.id}.Arn}/v/*`, `\${${bucket.id}.Arn}/web/*`],
      'originals (o/*) are not readable through the CDN',
    );
    const condition = (grant.Condition as Json).StringEquals as Json;
    assert.deepEqual(Object.keys(grant.Condition as Json), ['StringEquals']);
    assert.equal(flat(condition['AWS:SourceArn']), distributionArn);
  });

  test('no statement anywhere makes it public', () => {
    for (const { props } of all(s, 'AWS::S3::BucketPolicy')) {
      for (const st of (props.PolicyDocument as Json).Statement as Json[]) {
        if (st.Effect === 'Allow') assert.notDeepEqual(st.Principal, { AWS: '*' });
        if (st.Effect === 'Allow') assert.notEqual(st.Principal, '*');
      }
    }
  });
});

describe('the distribution', () => {
  test('Origin Access Control always signs with SigV4, on both S3 origins', () => {
    const oac = only(s, 'AWS::CloudFront::OriginAccessControl');
    assert.deepEqual(oac.props.OriginAccessControlConfig, {
      ...(oac.props.OriginAccessControlConfig as Json),
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    for (const id of ['variants', 'web']) {
      assert.equal(flat(origin(id).OriginAccessControlId), `\${${oac.id}.Id}`, id);
      assert.deepEqual(origin(id).S3OriginConfig, { OriginAccessIdentity: '' }, `${id}: no OAI`);
    }
    assert.equal(origin('web').OriginPath, '/web');
  });

  test('/i/* uses the origin group: S3 first, the transformer on exactly 403 and 404', () => {
    const groups = (config.OriginGroups as Json).Items as Json[];
    assert.equal(groups.length, 1);
    const [group] = groups as [Json];
    assert.deepEqual((group.FailoverCriteria as Json).StatusCodes, { Items: [403, 404], Quantity: 2 });
    assert.deepEqual(((group.Members as Json).Items as Json[]).map((m) => m.OriginId), [
      'variants',
      'transformer',
    ]);
    assert.equal(behaviour('/i/*').TargetOriginId, group.Id);
    assert.ok(origin('variants').S3OriginConfig, 'the primary is the bucket');
    const vpcOrigin = (origin('transformer').VpcOriginConfig as Json).VpcOriginId;
    assert.ok(vpcOrigin, 'the secondary is the load balancer, as a VPC origin');
  });

  test("the /i/* cache key is the path, exactly the spec's parameters (from the vectors) and the accept class", () => {
    const policy = only(s, 'AWS::CloudFront::CachePolicy');
    assert.equal(flat(behaviour('/i/*').CachePolicyId), `\${${policy.id}}`);
    const key = ((policy.props.CachePolicyConfig as Json).ParametersInCacheKeyAndForwardedToOrigin ??
      assert.fail('no key')) as Json;
    const queries = key.QueryStringsConfig as Json;
    assert.equal(queries.QueryStringBehavior, 'whitelist');
    const allowed = [...((queries.QueryStrings as string[] | undefined) ?? [])].sort();
    assert.deepEqual(allowed, parameterNamesFromVectors());
    assert.equal(allowed.length, 17, 'transform URLs 1.1 have 17 parameters');
    // The class the viewer-request function computes, never the raw Accept header.
    const headers = key.HeadersConfig as Json;
    assert.equal(headers.HeaderBehavior, 'whitelist');
    const names = ((headers.Headers as string[] | undefined) ?? []).map((h) => h.toLowerCase());
    assert.deepEqual(names, ['x-imgedge-accept']);
    assert.ok(!names.includes('accept'), 'Accept itself is never in the key');
    assert.deepEqual(key.CookiesConfig, { CookieBehavior: 'none' });
    // Over CloudFront's default quota of 10 query strings per cache policy: synthesis says so.
    Annotations.fromStack(s.stack).hasInfo(
      '/Imgedge/Delivery/ImageCachePolicy',
      Match.stringLikeRegexp(`lists ${allowed.length} query strings: raise .*"Query strings per cache policy" \\(default 10\\)`),
    );
    const ttl = policy.props.CachePolicyConfig as Json;
    assert.ok(Number(ttl.MaxTTL) >= 365 * 86400 && Number(ttl.DefaultTTL) >= 86400, 'long TTLs');
  });

  test('/i/* runs the accept-class CloudFront Function (runtime 2.0) on viewer request', () => {
    const fn = viewerRequestFunction(behaviour('/i/*'));
    assert.equal((fn.props.FunctionConfig as Json).Runtime, 'cloudfront-js-2.0');
    assert.equal(fn.props.AutoPublish, true, 'the LIVE stage is what the distribution runs');
    // The code deployed is the bundle the function tests run (test/accept-function.test.ts).
    const code = String(fn.props.FunctionCode);
    assert.equal(code, acceptFunctionCode());
    assert.ok(Buffer.byteLength(code) <= CLOUDFRONT_FUNCTION_MAX_BYTES);
    assert.match(code, /^function handler\(event\) \{$/m);
    assert.match(code, /"x-imgedge-accept"/);
    // The other behaviours never see the class: /v1/* has no function, the web client its own.
    assert.equal(behaviour('/v1/*').FunctionAssociations, undefined);
    assert.notEqual(viewerRequestFunction(defaultBehaviour()).id, fn.id);
  });

  test('the Lambda@Edge code (the S3 key rewrite) is lambda-edge\'s one-file bundle', () => {
    const fn = only(s, 'AWS::Lambda::Function').props;
    const key = flat((fn.Code as Json).S3Key);
    const hash = /^([0-9a-f]{64})\.zip$/.exec(key)?.[1] ?? assert.fail(`asset key ${key}`);
    const staged = path.join(s.assemblyDir, `asset.${hash}`);
    assert.deepEqual(readdirSync(staged).sort(), readdirSync(EDGE_FUNCTION_BUNDLE_DIR).sort());
    assert.ok(readdirSync(staged).includes('index.mjs'), 'the handler index.handler is index.mjs');
    const bundle = readFileSync(path.join(staged, 'index.mjs'), 'utf8');
    assert.equal(bundle, readFileSync(EDGE_FUNCTION_BUNDLE, 'utf8'));
    // Self-contained: nothing imported but Node's own modules.
    const imports = [...bundle.matchAll(/\b(?:import|from|require)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]);
    assert.deepEqual(imports.filter((spec) => !spec!.startsWith('node:')), [], 'imports only node: modules');
    assert.match(bundle, /export\s*\{[^}]*\bhandler\b[^}]*\}|export\s+(async\s+)?function\s+handler\b|export\s+const\s+handler\b/);
  });

  test('the Lambda@Edge version is attached on origin-request and origin-response of /i/*', () => {
    const versions = all(s, 'AWS::Lambda::Version');
    assert.equal(versions.length, 1);
    const [version] = versions as [{ id: string; props: Json }];
    const associations = behaviour('/i/*').LambdaFunctionAssociations as Json[];
    assert.deepEqual(
      associations.map((a) => [a.EventType, flat(a.LambdaFunctionARN)]),
      [
        ['origin-request', `\${${version.id}}`],
        ['origin-response', `\${${version.id}}`],
      ],
    );
    const fn = only(s, 'AWS::Lambda::Function').props;
    assert.equal(fn.Runtime, 'nodejs22.x');
    assert.equal(fn.Handler, 'index.handler');
    assert.equal(fn.Environment, undefined, 'Lambda@Edge takes no environment variables');
    assert.equal(flat(version.props.FunctionName), `\${${only(s, 'AWS::Lambda::Function').id}}`);
    assert.equal(s.stack.region, 'us-east-1', 'Lambda@Edge functions are created in us-east-1');
  });

  test('/v1/* goes to the API uncached, with every viewer header but Host', () => {
    const api = behaviour('/v1/*');
    assert.equal(api.CachePolicyId, '4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // CachingDisabled
    assert.equal(api.OriginRequestPolicyId, 'b689b0a8-53d0-40ab-baf2-68738e2966ac'); // AllViewerExceptHostHeader
    assert.equal(api.TargetOriginId, 'api');
    assert.deepEqual(api.AllowedMethods, ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
  });

  test('the web client is the default, with the SPA rewrite as a CloudFront Function', () => {
    const web = defaultBehaviour();
    assert.equal(web.TargetOriginId, 'web');
    const fn = viewerRequestFunction(web);
    assert.equal((fn.props.FunctionConfig as Json).Runtime, 'cloudfront-js-2.0');
    const source = readFileSync(new URL('../lib/functions/spa-rewrite.js', import.meta.url), 'utf8');
    assert.equal(fn.props.FunctionCode, source);
    assert.equal(all(s, 'AWS::CloudFront::Function').length, 2, 'the SPA rewrite and the accept class');
    assert.equal(config.CustomErrorResponses, undefined, 'no error mapping hides the JSON errors');
  });

  test('the origin secret header goes to both backend origins; HTTP/2 and HTTP/3; headers policy', () => {
    for (const id of ['transformer', 'api']) {
      const headers = origin(id).OriginCustomHeaders as Json[];
      assert.deepEqual(headers.map((h) => h.HeaderName), ['X-Imgedge-Origin-Secret']);
      assert.match(flat(headers[0]?.HeaderValue), /^\{\{resolve:secretsmanager:\$\{SecretsOriginSecret/);
    }
    assert.equal(config.HttpVersion, 'http2and3');
    const policy = only(s, 'AWS::CloudFront::ResponseHeadersPolicy');
    for (const b of [config.DefaultCacheBehavior as Json, behaviour('/i/*'), behaviour('/v1/*')]) {
      assert.equal(flat(b.ResponseHeadersPolicyId), `\${${policy.id}}`);
    }
    const security = (policy.props.ResponseHeadersPolicyConfig as Json).SecurityHeadersConfig as Json;
    assert.ok(security.ContentTypeOptions && security.FrameOptions && security.StrictTransportSecurity);
  });

  test('the web client gets the local edge\'s strict Content-Security-Policy', () => {
    const policy = only(s, 'AWS::CloudFront::ResponseHeadersPolicy');
    const security = (policy.props.ResponseHeadersPolicyConfig as Json).SecurityHeadersConfig as Json;
    const csp = security.ContentSecurityPolicy as Json;
    assert.equal(csp.Override, true);
    const directives = new Map(
      String(csp.ContentSecurityPolicy)
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...sources]) => [name, sources.join(' ')]),
    );
    assert.equal(directives.get('default-src'), "'self'");
    assert.equal(directives.get('img-src'), "'self' blob: data:");
    assert.equal(directives.get('object-src'), "'none'");
    assert.equal(directives.get('base-uri'), "'none'");
    assert.equal(directives.get('frame-ancestors'), "'none'");
    assert.ok(![...directives.values()].some((v) => v.includes('unsafe')), 'nothing unsafe');
    // The local edge sends the very same policy.
    const rust = readFileSync(new URL('../../src/edge/mod.rs', import.meta.url), 'utf8');
    const constant = /CONTENT_SECURITY_POLICY: &str = "((?:[^"\\]|\\\n)*)";/.exec(rust)?.[1];
    assert.equal(constant?.replace(/\\\n\s*/g, ''), csp.ContentSecurityPolicy);
  });
});

describe('the backend', () => {
  test('the load balancer is internal, answers 403 by default and forwards only with the secret', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
    });
    const listener = only(s, 'AWS::ElasticLoadBalancingV2::Listener').props;
    assert.deepEqual((listener.DefaultActions as Json[]).map((a) => a.Type), ['fixed-response']);
    assert.equal(((listener.DefaultActions as Json[])[0]?.FixedResponseConfig as Json).StatusCode, '403');
    const rules = all(s, 'AWS::ElasticLoadBalancingV2::ListenerRule');
    assert.equal(rules.length, 2);
    for (const { props } of rules) {
      const header = (props.Conditions as Json[]).find((c) => c.Field === 'http-header') as Json;
      assert.equal((header.HttpHeaderConfig as Json).HttpHeaderName, 'X-Imgedge-Origin-Secret');
    }
  });

  test('API and transformer run the image on ARM64 with their role as command; migrate first', () => {
    const tasks = all(s, 'AWS::ECS::TaskDefinition');
    assert.equal(tasks.length, 2);
    const commands = tasks.map(({ props }) => {
      assert.deepEqual(props.RuntimePlatform, { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
      return (props.ContainerDefinitions as Json[]).map((c) => (c.Command as string[]).join(' '));
    });
    assert.deepEqual(commands.flat().sort(), ['api', 'migrate', 'transformer']);
    const api = tasks.find(({ props }) =>
      (props.ContainerDefinitions as Json[]).some((c) => c.Name === 'api'),
    )!;
    const apiContainer = (api.props.ContainerDefinitions as Json[]).find((c) => c.Name === 'api')!;
    assert.deepEqual(apiContainer.DependsOn, [{ Condition: 'SUCCESS', ContainerName: 'migrate' }]);
  });

  test("the API's environment names the distribution and carries no static S3 key", () => {
    const containers = all(s, 'AWS::ECS::TaskDefinition').flatMap(
      ({ props }) => props.ContainerDefinitions as Json[],
    );
    const api = containers.find((c) => c.Name === 'api')!;
    const env = Object.fromEntries(
      (api.Environment as Json[]).map((e) => [e.Name as string, flat(e.Value)]),
    );
    assert.equal(env.IMGEDGE_CDN_BASE, `https://\${${distribution.id}.DomainName}`);
    assert.equal(env.IMGEDGE_CLOUDFRONT_DISTRIBUTION_ID, `\${${distribution.id}}`);
    assert.match(env.IMGEDGE_TRUSTED_PROXIES ?? '', /CidrBlock/);
    assert.equal(env.IMGEDGE_S3_REGION, 'us-east-1');
    assert.match(env.IMGEDGE_S3_BUCKET ?? '', /\$\{MediaBucket/);
    const secrets = (api.Secrets as Json[]).map((x) => x.Name).sort();
    assert.deepEqual(secrets, ['IMGEDGE_JWT_KEYS', 'IMGEDGE_URL_SECRET', 'PGPASSWORD', 'PGUSER']);
    for (const c of containers) {
      const names = [...((c.Environment as Json[] | undefined) ?? []), ...((c.Secrets as Json[] | undefined) ?? [])].map((e) => e.Name);
      assert.ok(!names.some((n) => String(n).includes('ACCESS_KEY')), `${String(c.Name)}: no static keys`);
    }
  });

  test('PostgreSQL and Redis connections are encrypted', () => {
    s.template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: { 'rds.force_ssl': '1' },
    });
    s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      TransitEncryptionEnabled: true,
    });
    const containers = all(s, 'AWS::ECS::TaskDefinition').flatMap(
      ({ props }) => props.ContainerDefinitions as Json[],
    );
    for (const name of ['api', 'transformer']) {
      const c = containers.find((x) => x.Name === name) ?? assert.fail(name);
      const env = Object.fromEntries(
        (c.Environment as Json[]).map((e) => [e.Name as string, flat(e.Value)]),
      );
      assert.match(env.DATABASE_URL ?? '', /\?sslmode=require$/, `${name}: DATABASE_URL`);
      assert.match(env.REDIS_URL ?? '', /^rediss:\/\//, `${name}: REDIS_URL`);
    }
  });

  test('the transformer reads o/* and v/*, writes v/* and may delete there, nothing more', () => {
    const statements = roleStatements('BackendTransformerTaskTaskRole');
    assert.deepEqual(
      statements.map((st) => [st.Action, list(st.Resource).map(flat).sort()]),
      [
        ['s3:GetObject', [`\${${bucket.id}.Arn}/o/*`, `\${${bucket.id}.Arn}/v/*`]],
        ['s3:PutObject', [`\${${bucket.id}.Arn}/v/*`]],
        ['s3:DeleteObject', [`\${${bucket.id}.Arn}/v/*`]],
      ],
    );
    // The role that writes v/ removes what it wrote for a deleted image (an orphan CloudFront
    // would otherwise serve for a year): every resource it may write, it may delete, and it
    // may delete nothing else (the originals are the API's).
    const resources = (action: string) =>
      statements
        .filter((st) => list(st.Action).includes(action))
        .flatMap((st) => list(st.Resource).map(flat))
        .sort();
    assert.deepEqual(resources('s3:DeleteObject'), resources('s3:PutObject'));
    assert.deepEqual(resources('s3:DeleteObject'), [`\${${bucket.id}.Arn}/v/*`]);
  });

  test('the API writes o/*, deletes o/* and v/*, lists v/ and invalidates this distribution only', () => {
    const statements = roleStatements('BackendApiTaskTaskRole');
    assert.deepEqual(
      statements.map((st) => [st.Action, list(st.Resource).map(flat).sort(), st.Condition ?? null]),
      [
        ['s3:PutObject', [`\${${bucket.id}.Arn}/o/*`], null],
        ['s3:DeleteObject', [`\${${bucket.id}.Arn}/o/*`, `\${${bucket.id}.Arn}/v/*`], null],
        ['s3:ListBucket', [`\${${bucket.id}.Arn}`], { StringLike: { 's3:prefix': ['v/*'] } }],
        ['cloudfront:CreateInvalidation', [distributionArn], null],
      ],
    );
  });

  test('no role is granted a wildcard action, and only ECR login a wildcard resource', () => {
    for (const { props } of all(s, 'AWS::IAM::Policy')) {
      for (const st of (props.PolicyDocument as Json).Statement as Json[]) {
        for (const action of list(st.Action)) assert.ok(!String(action).endsWith(':*'), String(action));
        if (list(st.Resource).includes('*')) assert.equal(st.Action, 'ecr:GetAuthorizationToken');
      }
    }
  });

  test('cost-aware defaults: no NAT gateway, smallest sizes, Valkey single node', () => {
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    s.template.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceClass: 'db.t4g.micro',
      MultiAZ: false,
      AllocatedStorage: '20',
    });
    s.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      CacheNodeType: 'cache.t4g.micro',
      Engine: 'valkey',
      NumCacheClusters: 1,
    });
    const cpus = all(s, 'AWS::ECS::TaskDefinition').map(({ props }) => props.Cpu).sort();
    assert.deepEqual(cpus, ['256', '512']);
    for (const { props } of all(s, 'AWS::ECS::Service')) {
      assert.equal(
        ((props.NetworkConfiguration as Json).AwsvpcConfiguration as Json).AssignPublicIp,
        'ENABLED',
      );
    }
  });

  test('context values raise the defaults', () => {
    const raised = synth({ transformerCpu: '1024', transformerMemoryMiB: '2048', natGateways: '1' });
    const cpus = all(raised, 'AWS::ECS::TaskDefinition').map(({ props }) => props.Cpu).sort();
    assert.deepEqual(cpus, ['1024', '256']);
    raised.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    for (const { props } of all(raised, 'AWS::ECS::Service')) {
      assert.equal(
        ((props.NetworkConfiguration as Json).AwsvpcConfiguration as Json).AssignPublicIp,
        'DISABLED',
      );
    }
  });
});

describe('the render budget (src/protocol.rs RenderBudget)', () => {
  /** The origin's read timeout, in seconds, as the template gives it to CloudFront. */
  const readTimeout = (of: Synthesised, id: string): unknown => {
    const origins = (only(of, 'AWS::CloudFront::Distribution').props.DistributionConfig as Json).Origins as Json[];
    const found = origins.find((o) => o.Id === id) ?? assert.fail(`origin ${id}`);
    return (found.VpcOriginConfig as Json).OriginReadTimeout;
  };
  /** The transformer container's environment, values flattened. */
  const transformerEnv = (of: Synthesised): Record<string, string> => {
    const containers = all(of, 'AWS::ECS::TaskDefinition').flatMap(
      ({ props }) => props.ContainerDefinitions as Json[],
    );
    const c = containers.find((x) => x.Name === 'transformer') ?? assert.fail('transformer');
    return Object.fromEntries((c.Environment as Json[]).map((e) => [e.Name as string, flat(e.Value)]));
  };

  test('by default the transformer renders within 20 s and CloudFront waits 55 s for it', () => {
    assert.equal(DEFAULT_RENDER_TIMEOUT_MS, 20_000);
    assert.equal(readTimeout(s, 'transformer'), 55);
    assert.equal(transformerEnv(s).IMGEDGE_RENDER_TIMEOUT_MS, '20000');
  });

  test("the API origin keeps CloudFront's 60 s: no render budget bounds it", () => {
    assert.equal(readTimeout(s, 'api'), 60);
  });

  test('renderTimeoutMs sets both the container and the origin, rounded up to whole seconds', () => {
    // 2 × (12.345 s + 5 s) + 5 s = 39.69 s
    const raised = synth({ renderTimeoutMs: '12345' });
    assert.equal(transformerEnv(raised).IMGEDGE_RENDER_TIMEOUT_MS, '12345');
    assert.equal(readTimeout(raised, 'transformer'), 40);
    assert.equal(readTimeout(raised, 'transformer'), Math.ceil(new RenderBudget(12_345).originTimeoutMs / 1000));
  });

  test('a render timeout whose origin timeout exceeds 60 s fails synthesis', () => {
    // 2 × (22.501 s + 5 s) + 5 s = 60.002 s, 61 s once rounded up
    assert.throws(() => synth({ renderTimeoutMs: '22501' }), /over CloudFront's 60 s maximum: shorten the render timeout/);
    assert.throws(() => synth({ renderTimeoutMs: '30000' }), /renderTimeoutMs=30000 makes the transformer origin timeout 75 s/);
  });
});
