// The API and the transformer: the repository's one container image (Dockerfile, target
// `runtime`), the role as its command, on ECS Fargate (ARM64) behind an internal load
// balancer that forwards only requests carrying the origin secret.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import type { Settings } from './config.js';
import type { Data } from './data.js';
import { ORIGIN_SECRET_HEADER } from './delivery.js';
import type { RenderBudget } from './render-budget.js';
import type { AppSecrets } from './secrets.js';
import { PREFIX } from './storage.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root: the Docker build context. */
export const REPO_ROOT = path.join(here, '..', '..');

/** The roles' listen ports (the Dockerfile's defaults). */
const API_PORT = 8080;
const TRANSFORMER_PORT = 8081;

export interface IngressProps {
  readonly vpc: ec2.IVpc;
  readonly cloudFrontPrefixListId: string;
}

/**
 * The internal load balancer. It only answers requests that carry the origin secret (the
 * service's rules add that condition); anything else gets the default 403.
 */
export class Ingress extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: IngressProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'imgedge load balancer: from CloudFront (VPC origin) only',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(
      ec2.Peer.prefixList(props.cloudFrontPrefixListId),
      ec2.Port.tcp(80),
      'CloudFront origin-facing addresses',
    );
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: false,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
    });
    this.listener = this.loadBalancer.addListener('Http', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.fixedResponse(403, {
        contentType: 'application/json',
        messageBody: '{"error":"origin_forbidden","message":"this origin answers only the CDN"}',
      }),
    });
  }
}

export interface BackendProps {
  readonly settings: Settings;
  /** The transformer's render timeout (the one the distribution's origin timeout derives from). */
  readonly renderBudget: RenderBudget;
  readonly vpc: ec2.IVpc;
  readonly taskSubnets: ec2.SubnetSelection;
  readonly assignPublicIp: boolean;
  readonly ingress: Ingress;
  readonly secrets: AppSecrets;
  readonly data: Data;
  readonly bucket: s3.IBucket;
  /** The distribution: the API's CDN base, and what it may invalidate. */
  readonly distributionId: string;
  readonly distributionDomainName: string;
  readonly distributionArn: string;
}

/** One Fargate service of the image, with its role. */
interface Role {
  readonly name: 'api' | 'transformer';
  readonly port: number;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, ecs.Secret>;
  /** Load-balancer path patterns routed to this role. */
  readonly paths: string[];
  readonly priority: number;
}

export class Backend extends Construct {
  readonly cluster: ecs.Cluster;
  readonly api: ecs.FargateService;
  readonly transformer: ecs.FargateService;
  readonly apiTaskRole: iam.IRole;
  readonly transformerTaskRole: iam.IRole;

  private readonly props: BackendProps;
  private readonly image: ecs.ContainerImage;
  private readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BackendProps) {
    super(scope, id);
    this.props = props;
    const { settings, data, secrets } = props;

    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc });
    this.image = ecs.ContainerImage.fromAsset(REPO_ROOT, {
      target: 'runtime',
      platform: Platform.LINUX_ARM64,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
    });

    // What both roles read: PostgreSQL (user and password as PGUSER/PGPASSWORD, which sqlx
    // reads when the URL has none), Redis, the bucket and the URL secret.
    const shared = {
      environment: {
        DATABASE_URL: data.databaseUrl,
        REDIS_URL: data.redisUrl,
        IMGEDGE_S3_BUCKET: props.bucket.bucketName,
        IMGEDGE_S3_REGION: Stack.of(this).region,
        IMGEDGE_LOG_JSON: 'true',
        RUST_LOG: 'info',
      },
      secrets: {
        PGUSER: ecs.Secret.fromSecretsManager(data.databaseSecret, 'username'),
        PGPASSWORD: ecs.Secret.fromSecretsManager(data.databaseSecret, 'password'),
        IMGEDGE_URL_SECRET: ecs.Secret.fromSecretsManager(secrets.urlSecret),
      },
    };

    this.transformer = this.service({
      name: 'transformer',
      port: TRANSFORMER_PORT,
      cpu: settings.transformerCpu,
      memoryMiB: settings.transformerMemoryMiB,
      minTasks: settings.transformerMinTasks,
      maxTasks: settings.transformerMaxTasks,
      environment: {
        ...shared.environment,
        // The value the transformer origin's read timeout was computed from (Delivery).
        IMGEDGE_RENDER_TIMEOUT_MS: String(props.renderBudget.renderTimeoutMs),
      },
      secrets: {
        ...shared.secrets,
        IMGEDGE_ORIGIN_SECRET: ecs.Secret.fromSecretsManager(secrets.originSecret),
      },
      paths: ['/i/*'],
      priority: 10,
    });
    this.api = this.service({
      name: 'api',
      port: API_PORT,
      cpu: settings.apiCpu,
      memoryMiB: settings.apiMemoryMiB,
      minTasks: settings.apiMinTasks,
      maxTasks: settings.apiMaxTasks,
      environment: {
        ...shared.environment,
        IMGEDGE_CDN_BASE: `https://${props.distributionDomainName}`,
        IMGEDGE_CLOUDFRONT_DISTRIBUTION_ID: props.distributionId,
        // The API's peer is the load balancer, inside the VPC: the X-Forwarded-For entry it
        // appends is believed, the viewer's address before it is the client.
        IMGEDGE_TRUSTED_PROXIES: props.vpc.vpcCidrBlock,
        IMGEDGE_JWT_ACTIVE_KID: settings.jwtActiveKid,
      },
      secrets: {
        ...shared.secrets,
        IMGEDGE_JWT_KEYS: ecs.Secret.fromSecretsManager(secrets.jwtKeys),
      },
      paths: ['/v1/*', '/v1'],
      priority: 20,
    });
    // The tasks may send anywhere (AWS APIs over the internet); the database and the cache
    // accept only them.
    for (const service of [this.api, this.transformer]) {
      for (const tasks of service.connections.securityGroups) {
        data.databaseSecurityGroup.addIngressRule(tasks, ec2.Port.tcp(5432), 'PostgreSQL from the tasks');
        data.cacheSecurityGroup.addIngressRule(tasks, ec2.Port.tcp(6379), 'Redis from the tasks');
      }
    }

    this.apiTaskRole = this.api.taskDefinition.taskRole;
    this.transformerTaskRole = this.transformer.taskDefinition.taskRole;
    this.grantLeastPrivilege();
  }

  /** A role's task definition, service, target group, listener rule and autoscaling. */
  private service(role: Role): ecs.FargateService {
    const { props } = this;
    const task = new ecs.FargateTaskDefinition(this, `${title(role.name)}Task`, {
      cpu: role.cpu,
      memoryLimitMiB: role.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const logging = ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: role.name });
    const container = task.addContainer(role.name, {
      image: this.image,
      command: [role.name],
      environment: role.environment,
      secrets: role.secrets,
      logging,
      portMappings: [{ containerPort: role.port }],
      // The image's probe (Dockerfile): bash's /dev/tcp, no curl needed.
      healthCheck: {
        command: ['CMD', 'imgedge-healthz', String(role.port)],
        interval: Duration.seconds(15),
        startPeriod: Duration.seconds(30),
      },
      stopTimeout: Duration.seconds(30),
    });
    if (role.name === 'api') {
      // The migrations run before every API task starts, from the same image: `imgedge
      // migrate` is idempotent and holds PostgreSQL's advisory lock, so tasks starting
      // together apply them once. No separate one-shot task to trigger and wait for.
      const migrate = task.addContainer('migrate', {
        image: this.image,
        command: ['migrate'],
        essential: false,
        environment: { DATABASE_URL: role.environment.DATABASE_URL ?? '' },
        secrets: { PGUSER: role.secrets.PGUSER!, PGPASSWORD: role.secrets.PGPASSWORD! },
        logging,
      });
      container.addContainerDependencies({
        container: migrate,
        condition: ecs.ContainerDependencyCondition.SUCCESS,
      });
    }

    const service = new ecs.FargateService(this, `${title(role.name)}Service`, {
      cluster: this.cluster,
      taskDefinition: task,
      desiredCount: role.minTasks,
      vpcSubnets: props.taskSubnets,
      assignPublicIp: props.assignPublicIp,
      minHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      enableExecuteCommand: false,
    });
    // Reachable from the load balancer only (no other ingress rule exists).
    service.connections.allowFrom(props.ingress.securityGroup, ec2.Port.tcp(role.port), 'load balancer');

    const targets = new elbv2.ApplicationTargetGroup(this, `${title(role.name)}Targets`, {
      vpc: props.vpc,
      port: role.port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      targets: [service],
      healthCheck: { path: '/healthz', healthyHttpCodes: '200', interval: Duration.seconds(15) },
      deregistrationDelay: Duration.seconds(30),
    });
    props.ingress.listener.addAction(`${title(role.name)}Rule`, {
      priority: role.priority,
      conditions: [
        elbv2.ListenerCondition.httpHeader(ORIGIN_SECRET_HEADER, [
          props.secrets.originSecret.secretValue.unsafeUnwrap(),
        ]),
        elbv2.ListenerCondition.pathPatterns(role.paths),
      ],
      action: elbv2.ListenerAction.forward([targets]),
    });

    const scaling = service.autoScaleTaskCount({ minCapacity: role.minTasks, maxCapacity: role.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: 60,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });
    return service;
  }

  /**
   * Task roles (no static S3 keys: the SDK's default chain finds the role):
   * - the transformer reads originals and variants (a peer's finished render), writes
   *   variants, and deletes them: a render that finishes after its image was deleted (or
   *   past the variant cap) removes the object it just wrote, else the CDN would serve that
   *   orphan for a year. Only under v/: the originals are the API's;
   * - the API writes originals, deletes originals and variants, lists v/ (to delete an
   *   image's variants by prefix) and invalidates this distribution only.
   */
  private grantLeastPrivilege(): void {
    const { bucket, distributionArn } = this.props;
    const objects = (prefix: string) => bucket.arnForObjects(`${prefix}*`);

    this.transformerTaskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOriginalsAndVariants',
        actions: ['s3:GetObject'],
        resources: [objects(PREFIX.originals), objects(PREFIX.variants)],
      }),
    );
    this.transformerTaskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteVariants',
        actions: ['s3:PutObject'],
        resources: [objects(PREFIX.variants)],
      }),
    );
    this.transformerTaskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOrphanVariants',
        actions: ['s3:DeleteObject'],
        resources: [objects(PREFIX.variants)],
      }),
    );

    this.apiTaskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOriginals',
        actions: ['s3:PutObject'],
        resources: [objects(PREFIX.originals)],
      }),
    );
    this.apiTaskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOriginalsAndVariants',
        actions: ['s3:DeleteObject'],
        resources: [objects(PREFIX.originals), objects(PREFIX.variants)],
      }),
    );
    this.apiTaskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListVariants',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${PREFIX.variants}*`] } },
      }),
    );
    this.apiTaskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvalidateThisDistribution',
        actions: ['cloudfront:CreateInvalidation'],
        resources: [distributionArn],
      }),
    );
  }
}

function title(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
