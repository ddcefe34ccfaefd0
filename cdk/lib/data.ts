// PostgreSQL (RDS) and the Redis-protocol cache (ElastiCache, Valkey engine), each in the
// isolated subnets and reachable only from the tasks' security groups.
//
// Both connections are encrypted: RDS refuses plain connections (`rds.force_ssl`) and the
// tasks connect with `sslmode=require` (TLS without checking the certificate against a CA:
// RDS's CA is not in the public roots; point `sslrootcert` at Amazon's RDS bundle and use
// `sslmode=verify-full` to check it too); the cache has in-transit encryption and the tasks
// connect with `rediss://` (its certificate chains to a public root and is verified).

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';

export const DATABASE_NAME = 'imgedge';
const REDIS_PORT = 6379;

export interface DataProps {
  readonly vpc: ec2.IVpc;
  readonly dbInstanceType: string;
  readonly dbAllocatedStorageGiB: number;
  readonly dbMultiAz: boolean;
  readonly cacheNodeType: string;
}

export class Data extends Construct {
  readonly database: rds.DatabaseInstance;
  /** The generated credentials: JSON with `username` and `password` (and host, port). */
  readonly databaseSecret: rds.DatabaseSecret;
  readonly databaseSecurityGroup: ec2.SecurityGroup;
  readonly cacheSecurityGroup: ec2.SecurityGroup;
  /** `redis://host:port` of the cache's primary endpoint. */
  readonly redisUrl: string;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const isolated = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

    this.databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc: props.vpc,
      description: 'imgedge PostgreSQL: from the tasks only',
      allowAllOutbound: false,
    });
    this.databaseSecret = new rds.DatabaseSecret(this, 'DatabaseSecret', { username: 'imgedge' });
    const engine = rds.DatabaseInstanceEngine.postgres({
      version: rds.PostgresEngineVersion.VER_17,
    });
    this.database = new rds.DatabaseInstance(this, 'Database', {
      engine,
      instanceType: new ec2.InstanceType(props.dbInstanceType),
      vpc: props.vpc,
      vpcSubnets: isolated,
      securityGroups: [this.databaseSecurityGroup],
      credentials: rds.Credentials.fromSecret(this.databaseSecret),
      databaseName: DATABASE_NAME,
      allocatedStorage: props.dbAllocatedStorageGiB,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      multiAz: props.dbMultiAz,
      backupRetention: Duration.days(7),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      parameterGroup: new rds.ParameterGroup(this, 'Parameters', {
        engine,
        parameters: { 'rds.force_ssl': '1' },
      }),
    });

    this.cacheSecurityGroup = new ec2.SecurityGroup(this, 'CacheSecurityGroup', {
      vpc: props.vpc,
      description: 'imgedge cache: from the tasks only',
      allowAllOutbound: false,
    });
    const subnets = new elasticache.CfnSubnetGroup(this, 'CacheSubnets', {
      description: 'imgedge cache: isolated subnets',
      subnetIds: props.vpc.selectSubnets(isolated).subnetIds,
    });
    // Valkey speaks the Redis protocol imgedge uses, at a lower node price than Redis OSS.
    // A single node: Redis holds rate limits, render leases and a metadata cache, all of
    // which imgedge rebuilds or degrades without (ARCHITECTURE.md, "Dependencies degrade").
    const cache = new elasticache.CfnReplicationGroup(this, 'Cache', {
      replicationGroupDescription: 'imgedge rate limits, render leases, metadata cache',
      engine: 'valkey',
      engineVersion: '8.0',
      cacheNodeType: props.cacheNodeType,
      numCacheClusters: 1,
      automaticFailoverEnabled: false,
      port: REDIS_PORT,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [this.cacheSecurityGroup.securityGroupId],
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
    });
    this.redisUrl = `rediss://${cache.attrPrimaryEndPointAddress}:${cache.attrPrimaryEndPointPort}`;
  }

  /** `postgres://host:port/imgedge?sslmode=require`: the user and password come as PGUSER and
   * PGPASSWORD. */
  get databaseUrl(): string {
    const endpoint = this.database.instanceEndpoint;
    return `postgres://${endpoint.hostname}:${endpoint.port}/${DATABASE_NAME}?sslmode=require`;
  }
}
