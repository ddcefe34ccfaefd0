// The backend's secrets, in Secrets Manager. The stack generates those it can; the JWT
// keys have a shape Secrets Manager cannot generate (`kid=base64key[,kid=...]`, several
// kids during a rotation), so they are created once before the first deploy
// (docs/deploy.md) and referenced here by name.

import { RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface AppSecretsProps {
  readonly jwtKeysSecretName: string;
}

/** Every ASCII letter except a-f: what a generated secret leaves out to be lowercase hex. */
const NOT_HEX = 'ghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

export class AppSecrets extends Construct {
  /** IMGEDGE_URL_SECRET: 32 bytes as 64 hex characters; every image's url_key derives from it. */
  readonly urlSecret: secretsmanager.Secret;
  /**
   * IMGEDGE_ORIGIN_SECRET: what CloudFront sends in `X-Imgedge-Origin-Secret` and the load
   * balancer requires. Letters and digits only: ALB header conditions treat `*` and `?` as
   * wildcards.
   */
  readonly originSecret: secretsmanager.Secret;
  /** IMGEDGE_JWT_KEYS. */
  readonly jwtKeys: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: AppSecretsProps) {
    super(scope, id);
    this.urlSecret = new secretsmanager.Secret(this, 'UrlSecret', {
      description: 'imgedge IMGEDGE_URL_SECRET (64 hex characters); changing it breaks every URL',
      generateSecretString: {
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
        excludeCharacters: NOT_HEX,
      },
      // Every signed URL in the wild depends on it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.originSecret = new secretsmanager.Secret(this, 'OriginSecret', {
      description: 'imgedge IMGEDGE_ORIGIN_SECRET: CloudFront → load balancer → transformer',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    this.jwtKeys = secretsmanager.Secret.fromSecretNameV2(this, 'JwtKeys', props.jwtKeysSecretName);
  }
}
