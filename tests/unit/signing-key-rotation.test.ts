import { describe, expect, it } from 'vitest';
import {
  MAX_KEYS,
  PUBLICATION_LEAD_MS,
  type PublicKeyStore,
  type RotationOptions,
  type RotationSecretStore,
  type RotationStep,
  retiredKeyGraceMs,
  rotateSigningKeysStep,
} from '../../shared/auth/key-rotation.js';

/** A clock the steps read and "sleep" on: sleeping moves it forward and is recorded. */
class FakeClock {
  time = Date.parse('2025-01-01T00:00:00Z');
  readonly sleeps: number[] = [];
  now = () => this.time;
  sleep = async (ms: number) => {
    this.sleeps.push(ms);
    this.time += ms;
  };
}

/** What happened, in order, with the fake time: to check publication before promotion. */
type Entry = { at: number; what: 'publish' | 'promote' };

/**
 * Secrets Manager's version staging, in memory (the service itself cannot run here): a
 * rotation starts by labelling a new, empty version AWSPENDING; finishing moves AWSCURRENT
 * and leaves AWSPREVIOUS on the old version. Versions carry their creation time.
 */
class FakeSecret implements RotationSecretStore {
  rotationEnabled = true;
  readonly versions = new Map<string, { value?: string; createdAt: Date; stages: string[] }>();
  putCalls = 0;

  constructor(
    initial: string,
    private readonly clock: FakeClock,
    private readonly log: Entry[],
  ) {
    this.versions.set('v0', {
      value: initial,
      createdAt: new Date(clock.now()),
      stages: ['AWSCURRENT'],
    });
  }

  /** What `RotateSecret` does before it invokes the function. */
  startRotation(token: string) {
    this.versions.set(token, { createdAt: new Date(this.clock.now()), stages: ['AWSPENDING'] });
  }

  current(): string {
    return [...this.versions.values()].find((v) => v.stages.includes('AWSCURRENT'))
      ?.value as string;
  }

  async describe() {
    const versions: Record<string, string[]> = {};
    for (const [id, v] of this.versions) if (v.stages.length) versions[id] = [...v.stages];
    return { rotationEnabled: this.rotationEnabled, versions };
  }

  async getValue(_secretId: string, { versionId, stage }: { versionId?: string; stage?: string }) {
    const version = versionId
      ? this.versions.get(versionId)
      : [...this.versions.values()].find((v) => v.stages.includes(stage as string));
    return version?.value === undefined
      ? undefined
      : { value: version.value, createdAt: version.createdAt };
  }

  async putPending(_secretId: string, versionId: string, value: string) {
    this.putCalls++;
    const version = this.versions.get(versionId);
    if (version?.value !== undefined && version.value !== value) {
      throw new Error('ResourceExistsException: a version with this token has another value');
    }
    this.versions.set(versionId, {
      value,
      createdAt: new Date(this.clock.now()),
      stages: ['AWSPENDING'],
    });
  }

  async promote(_secretId: string, versionId: string, fromVersionId: string | undefined) {
    this.log.push({ at: this.clock.now(), what: 'promote' });
    for (const v of this.versions.values()) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
    const from = fromVersionId ? this.versions.get(fromVersionId) : undefined;
    if (from) from.stages = ['AWSPREVIOUS'];
    const to = this.versions.get(versionId);
    if (to) to.stages = ['AWSCURRENT'];
  }
}

/** The verifiers' secret: its current value and when it was written. */
class FakePublicKeys implements PublicKeyStore {
  value: { value: string; publishedAt: Date } | undefined;
  publishCalls = 0;
  constructor(
    private readonly clock: FakeClock,
    private readonly log: Entry[],
  ) {
    this.value = { value: JSON.stringify({ keys: [] }), publishedAt: new Date(clock.now()) };
  }
  async read() {
    return this.value;
  }
  async publish(value: string) {
    this.publishCalls++;
    this.log.push({ at: this.clock.now(), what: 'publish' });
    this.value = { value, publishedAt: new Date(this.clock.now()) };
  }
}

const STEPS: RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
const kids = (set: string) => JSON.parse(set).keys.map((k: { kid: string }) => k.kid);
const GRACE = retiredKeyGraceMs(900);

/** A fresh stage: the empty signing set and public set the stack creates, one clock, one log. */
function stage(initial = JSON.stringify({ keys: [] })) {
  const clock = new FakeClock();
  const log: Entry[] = [];
  const secret = new FakeSecret(initial, clock, log);
  const publicKeys = new FakePublicKeys(clock, log);
  const options: RotationOptions = { clock, accessTokenTtlSeconds: 900 };
  const step = (token: string, Step: RotationStep) =>
    rotateSigningKeysStep(
      secret,
      publicKeys,
      { SecretId: 'keys', ClientRequestToken: token, Step },
      options,
    );
  /** One rotation as Secrets Manager drives it: the four steps in order. */
  const rotate = async (token: string) => {
    secret.startRotation(token);
    for (const s of STEPS) await step(token, s);
  };
  return { clock, log, secret, publicKeys, step, rotate };
}

describe('signing keys rotation function (Secrets Manager four-step protocol)', () => {
  it('creates the first key from the empty set the stack starts with, and publishes its public part', async () => {
    const { secret, publicKeys, rotate } = stage();
    await rotate('t1');
    const [key] = JSON.parse(secret.current()).keys;
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(key.d).toEqual(expect.any(String));
    const published = JSON.parse(publicKeys.value?.value as string);
    expect(published.keys).toEqual([
      { kty: 'EC', kid: key.kid, alg: 'ES256', crv: 'P-256', x: key.x, y: key.y, use: 'sig' },
    ]);
    expect(JSON.stringify(published)).not.toContain('"d"');
  });

  it('publishes the new public key while the old key still signs, and promotes it only PUBLICATION_LEAD_MS later', async () => {
    const { clock, log, secret, publicKeys, step, rotate } = stage();
    await rotate('t1');
    clock.time += GRACE;
    const before = secret.current();
    log.length = 0;
    clock.sleeps.length = 0;

    secret.startRotation('t2');
    await step('t2', 'createSecret');
    await step('t2', 'setSecret');
    // Published: the new key and the current signer; the current version is unchanged.
    const pending = secret.versions.get('t2')?.value as string;
    expect(kids(publicKeys.value?.value as string)).toEqual(kids(pending));
    expect(kids(pending)[1]).toBe(kids(before)[0]);
    expect(secret.current()).toBe(before);

    clock.time += 5_000; // Secrets Manager's next invocations take a moment
    await step('t2', 'testSecret');
    await step('t2', 'finishSecret');
    expect(secret.current()).toBe(pending);
    expect(clock.sleeps).toEqual([PUBLICATION_LEAD_MS - 5_000]);
    const [published, promoted] = log;
    expect(published?.what).toBe('publish');
    expect(promoted?.what).toBe('promote');
    expect((promoted?.at ?? 0) - (published?.at ?? 0)).toBeGreaterThanOrEqual(PUBLICATION_LEAD_MS);
  });

  it('does not wait again when the publication is already old enough (a retried finish)', async () => {
    const { clock, secret, step } = stage();
    secret.startRotation('t1');
    await step('t1', 'createSecret');
    await step('t1', 'setSecret');
    clock.time += PUBLICATION_LEAD_MS + 1;
    await step('t1', 'finishSecret');
    expect(clock.sleeps).toEqual([]);
    expect(kids(secret.current())).toHaveLength(1);
  });

  it('puts the new key first and keeps the previous one: two keys once the older one is retired', async () => {
    const { clock, secret, publicKeys, rotate } = stage();
    await rotate('t1');
    const first = kids(secret.current());
    clock.time += GRACE;
    await rotate('t2');
    const second = kids(secret.current());
    expect(second).toHaveLength(2);
    expect(second[1]).toBe(first[0]);
    clock.time += GRACE;
    await rotate('t3');
    expect(kids(secret.current())).toEqual([expect.any(String), second[0]]);
    expect(kids(publicKeys.value?.value as string)).toEqual(kids(secret.current()));
    expect(secret.versions.get('t2')?.stages).toEqual(['AWSPREVIOUS']);
  });

  it('keeps a retired key while tokens it signed may still be live (rotations in quick succession), at most MAX_KEYS', async () => {
    const { clock, secret, publicKeys, rotate } = stage();
    await rotate('t1');
    clock.time += GRACE;
    await rotate('t2');
    const [, firstKey] = kids(secret.current());
    clock.time += 60_000; // well within the grace period
    await rotate('t3');
    expect(kids(secret.current())).toHaveLength(3);
    expect(kids(secret.current())[2]).toBe(firstKey);
    expect(kids(publicKeys.value?.value as string)).toContain(firstKey);
    for (let i = 4; i <= MAX_KEYS + 2; i++) await rotate(`t${i}`);
    expect(kids(secret.current())).toHaveLength(MAX_KEYS);
  });

  it('does not make a second key or publish twice when a step is retried', async () => {
    const { secret, publicKeys, step } = stage();
    secret.startRotation('t1');
    await step('t1', 'createSecret');
    const pending = secret.versions.get('t1')?.value;
    await step('t1', 'createSecret');
    expect(secret.putCalls).toBe(1);
    expect(secret.versions.get('t1')?.value).toBe(pending);
    await step('t1', 'setSecret');
    await step('t1', 'setSecret');
    expect(publicKeys.publishCalls).toBe(1);
    for (const s of ['testSecret', 'finishSecret', 'finishSecret'] as const) await step('t1', s);
    expect(secret.current()).toBe(pending);
  });

  it('refuses to promote or pass the test while the public keys are not published', async () => {
    const { secret, publicKeys, step } = stage();
    secret.startRotation('t1');
    await step('t1', 'createSecret');
    await expect(step('t1', 'testSecret')).rejects.toThrow(/not published/);
    await expect(step('t1', 'finishSecret')).rejects.toThrow(/not published/);
    expect(JSON.parse(secret.current())).toEqual({ keys: [] });
    // Something overwrote the publication between the steps: refused again.
    await step('t1', 'setSecret');
    const published = publicKeys.value as { value: string; publishedAt: Date };
    publicKeys.value = { ...published, value: JSON.stringify({ keys: [] }) };
    await expect(step('t1', 'finishSecret')).rejects.toThrow(/not published/);
  });

  it('refuses a disabled rotation, an unknown version, a version that is not pending, a broken pending value', async () => {
    const { secret, step } = stage();
    await expect(step('nope', 'createSecret')).rejects.toThrow(/not a version/);
    secret.versions.set('stray', { value: '{}', createdAt: new Date(), stages: ['AWSPREVIOUS'] });
    await expect(step('stray', 'createSecret')).rejects.toThrow(/not pending/);
    secret.startRotation('bad');
    await secret.putPending('keys', 'bad', JSON.stringify({ keys: [{ kty: 'RSA' }] }));
    await expect(step('bad', 'setSecret')).rejects.toThrow();
    await expect(step('bad', 'testSecret')).rejects.toThrow();
    expect(JSON.parse(secret.current())).toEqual({ keys: [] });
    secret.rotationEnabled = false;
    await expect(step('bad', 'finishSecret')).rejects.toThrow(/not enabled/);
  });

  it('treats a version that is already current as done', async () => {
    const { secret, step, rotate } = stage();
    await rotate('t1');
    const current = secret.current();
    await step('t1', 'createSecret');
    expect(secret.current()).toBe(current);
  });
});
