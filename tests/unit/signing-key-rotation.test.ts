import { describe, expect, it } from 'vitest';
import {
  type RotationSecretStore,
  type RotationStep,
  rotateSigningKeysStep,
} from '../../shared/auth/key-rotation.js';

/**
 * Secrets Manager's version staging, in memory (the service itself cannot run here): a
 * rotation starts by labelling a new, empty version AWSPENDING; finishing moves AWSCURRENT
 * and leaves AWSPREVIOUS on the old version.
 */
class FakeSecret implements RotationSecretStore {
  rotationEnabled = true;
  readonly versions = new Map<string, { value?: string; stages: string[] }>();
  putCalls = 0;

  constructor(initial: string) {
    this.versions.set('v0', { value: initial, stages: ['AWSCURRENT'] });
  }

  /** What `RotateSecret` does before it invokes the function. */
  startRotation(token: string) {
    this.versions.set(token, { stages: ['AWSPENDING'] });
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
    if (versionId) return this.versions.get(versionId)?.value;
    return [...this.versions.values()].find((v) => v.stages.includes(stage as string))?.value;
  }

  async putPending(_secretId: string, versionId: string, value: string) {
    this.putCalls++;
    const version = this.versions.get(versionId);
    if (version?.value !== undefined && version.value !== value) {
      throw new Error('ResourceExistsException: a version with this token has another value');
    }
    this.versions.set(versionId, { value, stages: ['AWSPENDING'] });
  }

  async promote(_secretId: string, versionId: string, fromVersionId: string | undefined) {
    for (const v of this.versions.values()) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
    const from = fromVersionId ? this.versions.get(fromVersionId) : undefined;
    if (from) from.stages = ['AWSPREVIOUS'];
    const to = this.versions.get(versionId);
    if (to) to.stages = ['AWSCURRENT'];
  }
}

const STEPS: RotationStep[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
const kids = (set: string) => JSON.parse(set).keys.map((k: { kid: string }) => k.kid);

/** One rotation as Secrets Manager drives it: the four steps in order. */
async function rotate(secret: FakeSecret, token: string) {
  secret.startRotation(token);
  for (const step of STEPS) {
    await rotateSigningKeysStep(secret, {
      SecretId: 'keys',
      ClientRequestToken: token,
      Step: step,
    });
  }
}

describe('signing keys rotation function (Secrets Manager four-step protocol)', () => {
  it('creates the first key from the empty set the stack starts with', async () => {
    const secret = new FakeSecret(JSON.stringify({ keys: [] }));
    await rotate(secret, 't1');
    const [key] = JSON.parse(secret.current()).keys;
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(key.d).toEqual(expect.any(String));
  });

  it('puts the new key first and keeps the previous one, two keys at most', async () => {
    const secret = new FakeSecret(JSON.stringify({ keys: [] }));
    await rotate(secret, 't1');
    const first = kids(secret.current());
    await rotate(secret, 't2');
    const second = kids(secret.current());
    expect(second).toHaveLength(2);
    expect(second[1]).toBe(first[0]);
    await rotate(secret, 't3');
    expect(kids(secret.current())).toEqual([expect.any(String), second[0]]);
    expect(secret.versions.get('t2')?.stages).toEqual(['AWSPREVIOUS']);
  });

  it('does not make a second key when a step is retried', async () => {
    const secret = new FakeSecret(JSON.stringify({ keys: [] }));
    secret.startRotation('t1');
    const create = { SecretId: 'keys', ClientRequestToken: 't1', Step: 'createSecret' as const };
    await rotateSigningKeysStep(secret, create);
    const pending = secret.versions.get('t1')?.value;
    await rotateSigningKeysStep(secret, create);
    expect(secret.putCalls).toBe(1);
    expect(secret.versions.get('t1')?.value).toBe(pending);
    for (const step of ['testSecret', 'finishSecret', 'finishSecret'] as const) {
      await rotateSigningKeysStep(secret, { ...create, Step: step });
    }
    expect(secret.current()).toBe(pending);
  });

  it('refuses a disabled rotation, an unknown version, a version that is not pending, a broken pending value', async () => {
    const secret = new FakeSecret(JSON.stringify({ keys: [] }));
    const event = (token: string, Step: RotationStep) => ({
      SecretId: 'keys',
      ClientRequestToken: token,
      Step,
    });
    await expect(rotateSigningKeysStep(secret, event('nope', 'createSecret'))).rejects.toThrow(
      /not a version/,
    );
    secret.versions.set('stray', { value: '{}', stages: ['AWSPREVIOUS'] });
    await expect(rotateSigningKeysStep(secret, event('stray', 'createSecret'))).rejects.toThrow(
      /not pending/,
    );
    secret.startRotation('bad');
    await secret.putPending('keys', 'bad', JSON.stringify({ keys: [{ kty: 'RSA' }] }));
    await expect(rotateSigningKeysStep(secret, event('bad', 'testSecret'))).rejects.toThrow();
    expect(JSON.parse(secret.current())).toEqual({ keys: [] });
    secret.rotationEnabled = false;
    await expect(rotateSigningKeysStep(secret, event('bad', 'finishSecret'))).rejects.toThrow(
      /not enabled/,
    );
  });

  it('treats a version that is already current as done', async () => {
    const secret = new FakeSecret(JSON.stringify({ keys: [] }));
    await rotate(secret, 't1');
    const current = secret.current();
    await rotateSigningKeysStep(secret, {
      SecretId: 'keys',
      ClientRequestToken: 't1',
      Step: 'createSecret',
    });
    expect(secret.current()).toBe(current);
  });
});
