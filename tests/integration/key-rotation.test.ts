import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  PUBLICATION_LEAD_MS,
  publicKeySecret,
  type RotationStep,
  rotateSigningKeysStep,
  secretsManagerStore,
} from '../../shared/auth/key-rotation.js';
import { KEY_SET_MAX_AGE_MS, publicKeySetOf, rotateSigningKeySet } from '../../shared/auth/keys.js';

const original = process.env.JWT_SIGNING_KEYS as string;
const saved = { ...process.env };

const user = { id: randomUUID(), role: 'user' as const };
const kidOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid;
const kids = (set: string) => JSON.parse(set).keys.map((k: { kid: string }) => k.kid);

/**
 * A fresh copy of the token module (a new Lambda instance) whose configuration is read from
 * `env` (added to the current one; `undefined` removes a variable). The instance keeps that
 * configuration after the environment is restored.
 */
async function instance(env: Record<string, string | undefined> = {}) {
  const before = { ...process.env };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    vi.resetModules();
    const tokens = await import('../../shared/auth/tokens.js');
    (await import('../../shared/config.js')).getConfig();
    return tokens;
  } finally {
    process.env = before;
  }
}

/** The variables of a signing key set given inline: the private set and its public set. */
const inline = (signing: string) => ({
  JWT_SIGNING_KEYS: signing,
  JWT_PUBLIC_KEYS: publicKeySetOf(signing),
});

describe('signing key rotation, key sets from the environment (local cloud)', () => {
  afterEach(() => {
    process.env = { ...saved };
    vi.resetModules();
  });

  it('puts a new signer first and keeps the previous key, at most `keep` keys', async () => {
    const once = await rotateSigningKeySet(original);
    const twice = await rotateSigningKeySet(once);
    expect(kids(once)).toHaveLength(2);
    expect(kids(once)[1]).toBe(kids(original)[0]);
    expect(kids(twice)).toEqual([kids(twice)[0], kids(once)[0]]);
    expect(kids(await rotateSigningKeySet(twice, 3))).toHaveLength(3);
  });

  it('tokens signed by the old key keep verifying after a rotation; new ones use the new kid', async () => {
    const before = await instance();
    const old = await before.issueAccessToken(user);

    const after = await instance(inline(await rotateSigningKeySet(original)));
    await expect(after.verifyAccessToken(old.token)).resolves.toMatchObject({ userId: user.id });
    const fresh = await after.issueAccessToken(user);
    expect(kidOf(fresh.token)).not.toBe(kidOf(old.token));
    await expect(after.verifyAccessToken(fresh.token)).resolves.toMatchObject({ userId: user.id });
  });

  it('once its key is dropped from the set (two rotations later), an old token is 401', async () => {
    const before = await instance();
    const old = await before.issueAccessToken(user);
    const after = await instance(
      inline(await rotateSigningKeySet(await rotateSigningKeySet(original))),
    );
    await expect(after.verifyAccessToken(old.token)).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
  });

  it('a verify-only instance (public keys, no private key) verifies what a signer signs', async () => {
    const signer = await instance({ JWT_PUBLIC_KEYS: undefined });
    const verifier = await instance({ JWT_SIGNING_KEYS: undefined });
    const { token } = await signer.issueAccessToken(user);
    await expect(verifier.verifyAccessToken(token)).resolves.toMatchObject({ userId: user.id });
    await expect(verifier.issueAccessToken(user)).rejects.toThrow(/JWT_SIGNING_KEYS/);
  });
});

/**
 * A deployed stage: the private signing keys and the public keys in two Secrets Manager
 * secrets, rotated by the real rotation steps over the AWS SDK. Secrets Manager cannot run
 * here, so a stand-in answers its JSON protocol (the SDK reaches it through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`) with version staging as the service does it. Time is a
 * fake `Date`: the rotation's wait and the instances' caches move with it.
 */
describe('signing key rotation on a deployed stage (Secrets Manager stand-in)', () => {
  const SIGNING = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:signing-AbCdEf';
  const PUBLIC = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:public-AbCdEf';
  type Version = { value?: string; createdAt: number; stages: string[] };
  const secrets = new Map<string, Map<string, Version>>();
  /** When each call happened (fake time), to check the order of publication and promotion. */
  const calls: { at: number; target: string; secretId: string }[] = [];
  let failReads = false;
  let server: Server;

  const versionsOf = (id: string) => secrets.get(id) as Map<string, Version>;
  const current = (id: string) =>
    [...versionsOf(id).values()].find((v) => v.stages.includes('AWSCURRENT'))?.value as string;
  /** Moves `stage` to `versionId`; a moved AWSCURRENT leaves AWSPREVIOUS behind. */
  const moveStage = (id: string, stage: string, versionId: string) => {
    for (const version of versionsOf(id).values()) {
      if (stage === 'AWSCURRENT' && version.stages.includes('AWSCURRENT')) {
        for (const v of versionsOf(id).values()) {
          v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
        }
        version.stages = [...version.stages.filter((s) => s !== 'AWSCURRENT'), 'AWSPREVIOUS'];
      } else {
        version.stages = version.stages.filter((s) => s !== stage);
      }
    }
    const target = versionsOf(id).get(versionId) as Version;
    target.stages = [...target.stages.filter((s) => s !== 'AWSPREVIOUS'), stage];
  };

  // biome-ignore lint/suspicious/noExplicitAny: the JSON protocol's bodies are untyped.
  const answer = (target: string, body: any): [number, object] => {
    const id = body.SecretId as string;
    const versions = secrets.get(id);
    if (!versions) return [400, { __type: 'ResourceNotFoundException', message: 'no secret' }];
    calls.push({ at: Date.now(), target, secretId: id });
    switch (target) {
      case 'DescribeSecret': {
        const VersionIdsToStages: Record<string, string[]> = {};
        for (const [v, { stages }] of versions) if (stages.length) VersionIdsToStages[v] = stages;
        return [200, { ARN: id, Name: id, RotationEnabled: id === SIGNING, VersionIdsToStages }];
      }
      case 'GetSecretValue': {
        if (failReads) return [500, { __type: 'InternalServiceError', message: 'down' }];
        const stage = body.VersionStage ?? (body.VersionId ? undefined : 'AWSCURRENT');
        const found = [...versions].find(([v, version]) =>
          stage ? version.stages.includes(stage) : v === body.VersionId,
        );
        if (!found || found[1].value === undefined) {
          return [400, { __type: 'ResourceNotFoundException', message: 'no such version' }];
        }
        const [VersionId, version] = found;
        return [
          200,
          {
            ARN: id,
            Name: id,
            VersionId,
            SecretString: version.value,
            VersionStages: version.stages,
            CreatedDate: version.createdAt / 1000,
          },
        ];
      }
      case 'PutSecretValue': {
        const versionId = (body.ClientRequestToken as string | undefined) ?? randomUUID();
        const existing = versions.get(versionId);
        if (existing?.value !== undefined && existing.value !== body.SecretString) {
          return [400, { __type: 'ResourceExistsException', message: 'another value' }];
        }
        const stages: string[] = body.VersionStages ?? ['AWSCURRENT'];
        versions.set(versionId, {
          value: body.SecretString,
          createdAt: Date.now(),
          stages: existing?.stages ?? [],
        });
        for (const stage of stages) moveStage(id, stage, versionId);
        return [200, { ARN: id, Name: id, VersionId: versionId, VersionStages: stages }];
      }
      case 'UpdateSecretVersionStage': {
        moveStage(id, body.VersionStage, body.MoveToVersionId);
        return [200, { ARN: id, Name: id }];
      }
      default:
        return [400, { __type: 'InvalidRequestException', message: `no ${target}` }];
    }
  };

  /** What `RotateSecret` does before it invokes the rotation function: a pending version. */
  const startRotation = (token: string) => {
    for (const version of versionsOf(SIGNING).values()) {
      version.stages = version.stages.filter((s) => s !== 'AWSPENDING');
    }
    versionsOf(SIGNING).set(token, { createdAt: Date.now(), stages: ['AWSPENDING'] });
  };

  const sleeps: number[] = [];
  const clock = {
    now: () => Date.now(),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      later(ms);
    },
  };
  const later = (ms: number) => vi.setSystemTime(Date.now() + ms);

  /** Runs `steps` of rotation `token` as the deployed function does, over the AWS SDK. */
  async function rotate(token: string, steps: RotationStep[]) {
    const client = new SecretsManagerClient({});
    for (const Step of steps) {
      await rotateSigningKeysStep(
        secretsManagerStore(client),
        publicKeySecret(client, PUBLIC),
        { SecretId: SIGNING, ClientRequestToken: token, Step },
        { clock },
      );
    }
    client.destroy();
  }
  const ALL: RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

  /** A function that signs (login): the private secret only. */
  const signer = () =>
    instance({
      JWT_SIGNING_KEYS: undefined,
      JWT_PUBLIC_KEYS: undefined,
      JWT_SIGNING_KEYS_SECRET_ARN: SIGNING,
    });
  /** A function that verifies (every signed-in route): the public secret only. */
  const verifier = () =>
    instance({
      JWT_SIGNING_KEYS: undefined,
      JWT_PUBLIC_KEYS: undefined,
      JWT_PUBLIC_KEYS_SECRET_ARN: PUBLIC,
    });

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        const target = String(request.headers['x-amz-target']).replace('secretsmanager.', '');
        const [status, out] = answer(target, JSON.parse(body || '{}'));
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(out));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    });
  });

  // Each test: a new stage (both secrets empty, as the stack creates them) and its first
  // rotation done, with the clock past anything an earlier test cached.
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    later(24 * 3_600_000);
    failReads = false;
    calls.length = 0;
    sleeps.length = 0;
    const empty = JSON.stringify({ keys: [] });
    for (const id of [SIGNING, PUBLIC]) {
      secrets.set(
        id,
        new Map([['v0', { value: empty, createdAt: Date.now(), stages: ['AWSCURRENT'] }]]),
      );
    }
    startRotation('t1');
    await rotate('t1', ALL);
    later(3_600_000);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    process.env = { ...saved };
    vi.resetModules();
    await new Promise((resolve) => server.close(resolve));
  });

  it('publishes only public keys, and the new key signs only PUBLICATION_LEAD_MS after its publication', async () => {
    const [first] = kids(current(SIGNING));
    startRotation('t2');
    await rotate('t2', ['createSecret', 'setSecret']);
    // Published: the new key and the current signer, no private member; still signing: the old.
    const pending = versionsOf(SIGNING).get('t2')?.value as string;
    expect(kids(current(PUBLIC))).toEqual(kids(pending));
    expect(kids(pending)[1]).toBe(first);
    expect(current(PUBLIC)).not.toContain('"d"');
    expect(kids(current(SIGNING))).toEqual([first]);

    later(3_000);
    await rotate('t2', ['testSecret', 'finishSecret']);
    expect(current(SIGNING)).toBe(pending);
    const published = calls.find((c) => c.target === 'PutSecretValue' && c.secretId === PUBLIC);
    const promoted = calls.find((c) => c.target === 'UpdateSecretVersionStage');
    expect((promoted?.at ?? 0) - (published?.at ?? 0)).toBeGreaterThanOrEqual(PUBLICATION_LEAD_MS);
    expect(sleeps.at(-1)).toBe(PUBLICATION_LEAD_MS - 3_000);
  });

  it('a verifier that read the public keys just before the publication learns the new kid from the first token it signs', async () => {
    const login = await signer();
    const api = await verifier();
    const before = await login.issueAccessToken(user);
    // The verifier reads the public keys now (k1 only) ...
    await expect(api.verifyAccessToken(before.token)).resolves.toMatchObject({ userId: user.id });
    later(30_000);
    // ... and 30 s later a rotation publishes k2, then promotes it PUBLICATION_LEAD_MS later.
    startRotation('t2');
    await rotate('t2', ALL);
    // A signer that starts now (a cold start) signs with k2 at once.
    const fresh = await (await signer()).issueAccessToken(user);
    const [k2, k1] = kids(current(SIGNING));
    expect(kidOf(fresh.token)).toBe(k2);
    expect(kidOf(before.token)).toBe(k1);
    // Its cache is younger than KEY_SET_MAX_AGE_MS, but the unknown kid makes it read again:
    // the wait made sure the throttle on such reads (1 a minute) has passed.
    expect(30_000 + PUBLICATION_LEAD_MS).toBeLessThan(KEY_SET_MAX_AGE_MS);
    await expect(api.verifyAccessToken(fresh.token)).resolves.toMatchObject({ userId: user.id });
    // Tokens of the previous key keep verifying until they expire.
    await expect(api.verifyAccessToken(before.token)).resolves.toMatchObject({ userId: user.id });
  });

  it('a warm signer moves to the new key within KEY_SET_MAX_AGE_MS of the promotion, never before', async () => {
    const login = await signer();
    const first = await login.issueAccessToken(user);
    startRotation('t2');
    await rotate('t2', ALL);
    const [k2, k1] = kids(current(SIGNING));
    expect(kidOf(first.token)).toBe(k1);
    // Promoted PUBLICATION_LEAD_MS after this signer's read: it still signs with k1 ...
    expect(kidOf((await login.issueAccessToken(user)).token)).toBe(k1);
    // ... until its key set is KEY_SET_MAX_AGE_MS old.
    later(KEY_SET_MAX_AGE_MS - PUBLICATION_LEAD_MS);
    expect(kidOf((await login.issueAccessToken(user)).token)).toBe(k2);
  });

  it('keeps verifying with the loaded keys while Secrets Manager fails, and reads again once it is back', async () => {
    const api = await verifier();
    const { token } = await (await signer()).issueAccessToken(user);
    await expect(api.verifyAccessToken(token)).resolves.toMatchObject({ userId: user.id });
    failReads = true;
    later(KEY_SET_MAX_AGE_MS + 1_000);
    await expect(api.verifyAccessToken(token)).resolves.toMatchObject({ userId: user.id });
    failReads = false;
    startRotation('t2');
    await rotate('t2', ALL);
    later(KEY_SET_MAX_AGE_MS);
    const next = await (await signer()).issueAccessToken(user);
    await expect(api.verifyAccessToken(next.token)).resolves.toMatchObject({ userId: user.id });
  });

  it('answers 503 (not 401, not 500) when a new instance cannot read its keys yet', async () => {
    const { token } = await (await signer()).issueAccessToken(user);
    failReads = true;
    const api = await verifier();
    await expect(api.verifyAccessToken(token)).rejects.toMatchObject({
      kind: 'unavailable',
      extra: { headers: { 'Retry-After': expect.any(String) } },
    });
    await expect((await signer()).issueAccessToken(user)).rejects.toMatchObject({
      kind: 'unavailable',
    });
    failReads = false;
    await expect(api.verifyAccessToken(token)).resolves.toMatchObject({ userId: user.id });
  });

  it('a verifier never reads the private secret, a signer never the public one', async () => {
    calls.length = 0;
    const api = await verifier();
    const { token } = await (await signer()).issueAccessToken(user);
    const signerReads = calls.map((c) => c.secretId);
    calls.length = 0;
    await api.verifyAccessToken(token);
    expect(signerReads).toEqual([SIGNING]);
    expect(calls.map((c) => c.secretId)).toEqual([PUBLIC]);
  });
});
