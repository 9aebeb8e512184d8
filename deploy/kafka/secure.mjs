// The SASL_SSL mode of deploy/kafka (KAFKA_SECURITY=sasl_ssl): certificates from openssl, SCRAM users created at
// format time, ACLs with the StandardAuthorizer. Everything lives under <cache>/data/<port>/security/ so a
// secured broker never shares files with a plain one. See README.md "Secured mode".
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import kafkajs from 'kafkajs';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/** The principals of a secured broker. admin is the super user (setup, topic creation, producing test inputs). */
export const PRINCIPALS = {
  admin: 'the super user: creates topics and ACLs; the broker itself logs in as admin',
  tidemark:
    'the services and the CLI: reads the inputs, reads and writes dq.* and tidemark.* topics',
  auditor: 'like tidemark but may not write dq.* (tests a missing WRITE ACL)',
};

/** Input topics tidemark may read but never write (core DEFAULT_TOPICS). */
export const INPUT_TOPICS = ['content.changes.v1', 'sync.events.v1', 'inventory.snapshots.v1'];

/** Paths of a secured instance's files. */
export function securityPaths(instanceDir) {
  const dir = path.join(instanceDir, 'security');
  return {
    dir,
    caKey: path.join(dir, 'ca.key'),
    caFile: path.join(dir, 'ca.pem'),
    brokerKeystore: path.join(dir, 'broker-keystore.pem'),
    clientCert: path.join(dir, 'client.pem'),
    clientKey: path.join(dir, 'client.key'),
    /** A CA nobody trusts, for testing the untrusted-certificate path. */
    otherCaFile: path.join(dir, 'other-ca.pem'),
    users: path.join(dir, 'users.json'),
    aclsDone: path.join(dir, 'acls.done'),
  };
}

function openssl(args, cwd) {
  const res = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (res.error) throw new Error(`cannot run openssl: ${res.error.message} (install openssl)`);
  if (res.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${res.stderr}`);
}

/**
 * Makes a throw-away CA, a broker certificate for 127.0.0.1/localhost signed by it (in a PEM keystore: PKCS#8
 * key + chain), a client certificate for mutual TLS, and an unrelated CA. Kept once made (valid 825 days).
 */
export function ensureCertificates(p, say) {
  if (fs.existsSync(p.brokerKeystore) && fs.existsSync(p.otherCaFile)) return;
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const days = '825';
  const key = (file) =>
    openssl(
      ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file],
      p.dir,
    );
  key(p.caKey);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      p.caKey,
      '-sha256',
      '-days',
      days,
      '-subj',
      '/CN=tidemark-local-ca',
      '-out',
      p.caFile,
    ],
    p.dir,
  );
  const sign = (name, cn, ext) => {
    const keyFile = path.join(p.dir, `${name}.key`);
    const csr = path.join(p.dir, `${name}.csr`);
    const extFile = path.join(p.dir, `${name}.ext`);
    key(keyFile);
    openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${cn}`, '-out', csr], p.dir);
    fs.writeFileSync(extFile, ext);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        p.caFile,
        '-CAkey',
        p.caKey,
        '-CAcreateserial',
        '-sha256',
        '-days',
        days,
        '-extfile',
        extFile,
        '-out',
        path.join(p.dir, `${name}.pem`),
      ],
      p.dir,
    );
    fs.rmSync(csr);
    fs.rmSync(extFile);
    return { keyFile, certFile: path.join(p.dir, `${name}.pem`) };
  };
  const broker = sign(
    'broker',
    'localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  sign('client', 'tidemark', 'extendedKeyUsage=clientAuth\n');
  fs.writeFileSync(
    p.brokerKeystore,
    fs.readFileSync(broker.keyFile, 'utf8') +
      fs.readFileSync(broker.certFile, 'utf8') +
      fs.readFileSync(p.caFile, 'utf8'),
    { mode: 0o600 },
  );
  const otherKey = path.join(p.dir, 'other-ca.key');
  key(otherKey);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      otherKey,
      '-sha256',
      '-days',
      days,
      '-subj',
      '/CN=tidemark-untrusted-ca',
      '-out',
      p.otherCaFile,
    ],
    p.dir,
  );
  say(`Made a local CA and certificates in ${p.dir}`);
}

/** Random passwords of every principal, made once (file mode 600); hex, so they need no quoting anywhere. */
export function ensureUsers(p) {
  if (fs.existsSync(p.users)) return JSON.parse(fs.readFileSync(p.users, 'utf8'));
  const users = Object.fromEntries(
    Object.keys(PRINCIPALS).map((name) => [name, randomBytes(18).toString('hex')]),
  );
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(p.users, `${JSON.stringify(users, null, 2)}\n`, { mode: 0o600 });
  return users;
}

/** `--add-scram` arguments of kafka-storage format: every user with both SCRAM mechanisms. */
export function scramFormatArgs(users) {
  return Object.entries(users).flatMap(([name, password]) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((m) => [
      '--add-scram',
      `${m}=[name=${name},password=${password}]`,
    ]),
  );
}

/** Listener and security lines of server.properties for the secured mode. */
export function secureListenerProperties(cfg, p, users) {
  const scramJaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${users.admin}";`;
  // SCRAM cannot authenticate the KRaft controller listener (its credentials live in the metadata it serves), so
  // that listener uses PLAIN with a static admin user: the only principal is then admin, never ANONYMOUS.
  const plainJaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="${users.admin}" user_admin="${users.admin}";`;
  return `listeners=SASL_SSL://${cfg.host}:${cfg.port},CONTROLLER://${cfg.host}:${cfg.controllerPort}
advertised.listeners=SASL_SSL://${cfg.host}:${cfg.port}
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL

sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scramJaas}
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scramJaas}
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=${plainJaas}

ssl.keystore.type=PEM
ssl.keystore.location=${p.brokerKeystore}
ssl.truststore.type=PEM
ssl.truststore.location=${p.caFile}
# A client certificate is verified when offered (mutual TLS); the principal still comes from SASL.
ssl.client.auth=requested

authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
`;
}

/** kafkajs connection options of a principal on the secured listener. */
export function clientOptions(p, users, user = 'admin') {
  return {
    ssl: { ca: [fs.readFileSync(p.caFile, 'utf8')], rejectUnauthorized: true },
    sasl: { mechanism: 'scram-sha-512', username: user, password: users[user] },
  };
}

function acl(principal, resourceType, resourceName, resourcePatternType, operations) {
  return operations.map((operation) => ({
    resourceType,
    resourceName,
    resourcePatternType,
    principal: `User:${principal}`,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

/**
 * The ACLs of tidemark's principals: read (never write) the inputs; tidemark reads and writes its own topics
 * (prefixes dq. and tidemark.) and may create its changelog and internal topics; auditor may only read dq.*.
 * Both use consumer groups prefixed tidemark-.
 */
export function tidemarkAcls() {
  const { TOPIC, GROUP, CLUSTER } = AclResourceTypes;
  const { LITERAL, PREFIXED } = ResourcePatternTypes;
  const { READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS, CREATE, DELETE, IDEMPOTENT_WRITE } =
    AclOperationTypes;
  const common = (user) => [
    ...INPUT_TOPICS.flatMap((t) =>
      acl(user, TOPIC, t, LITERAL, [READ, DESCRIBE, DESCRIBE_CONFIGS]),
    ),
    ...acl(user, TOPIC, 'tidemark.', PREFIXED, [READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS, CREATE]),
    ...acl(user, GROUP, 'tidemark-', PREFIXED, [READ, DESCRIBE, DELETE]),
    ...acl(user, CLUSTER, 'kafka-cluster', LITERAL, [IDEMPOTENT_WRITE]),
  ];
  return [
    ...common('tidemark'),
    ...acl('tidemark', TOPIC, 'dq.', PREFIXED, [READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS]),
    ...common('auditor'),
    ...acl('auditor', TOPIC, 'dq.', PREFIXED, [READ, DESCRIBE, DESCRIBE_CONFIGS]),
  ];
}

/** Creates the ACLs as admin (CreateAcls is idempotent: an existing binding is kept). */
export async function applyAcls(cfg, p, users, Kafka, logLevel) {
  const kafka = new Kafka({
    clientId: 'tidemark-kafka-setup',
    brokers: cfg.brokers,
    logLevel: logLevel.NOTHING,
    ...clientOptions(p, users, 'admin'),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: tidemarkAcls() });
  } finally {
    await admin.disconnect();
  }
  fs.writeFileSync(p.aclsDone, `${new Date().toISOString()}\n`);
}

/** What `up --json` reports for a secured broker: where the CA is and how each principal logs in. */
export function securityReport(p, users) {
  return {
    protocol: 'SASL_SSL',
    caFile: p.caFile,
    clientCertFile: p.clientCert,
    clientKeyFile: p.clientKey,
    otherCaFile: p.otherCaFile,
    usersFile: p.users,
    mechanisms: ['scram-sha-256', 'scram-sha-512'],
    principals: Object.keys(users),
  };
}
