// The VPC, without an always-on NAT gateway: tasks run in public subnets with public IPs
// (egress to ECR, Secrets Manager, CloudFront's API) and accept traffic only from the load
// balancer's security group; the load balancer, the database and the cache live in
// isolated subnets. S3 is reached through a gateway endpoint, which costs nothing.

import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

export interface NetworkProps {
  readonly natGateways: number;
}

export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  /** Where the tasks run, and whether they need a public IP to reach AWS APIs. */
  readonly taskSubnets: ec2.SubnetSelection;
  readonly tasksNeedPublicIp: boolean;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const withNat = props.natGateways > 0;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      // Two zones: the load balancer needs two; the stack names them (ImgedgeStack).
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        ...(withNat
          ? [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 }]
          : []),
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    this.taskSubnets = {
      subnetType: withNat ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC,
    };
    this.tasksNeedPublicIp = !withNat;
  }
}
