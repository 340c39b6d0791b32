import { describe, expect, it } from 'vitest';
import { useApi } from '../helpers/api.js';
import { createUser } from '../helpers/users.js';

const api = useApi();

describe('walk-through', () => {
  it('registers, logs in, creates, lists, archives and restores a note', async () => {
    const user = await createUser(api);
    const created = await api.post('/api/v1/notes', {
      token: user.token,
      body: { title: 'First' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/v1/notes/${created.body.id}`);
    expect(created.headers.get('etag')).toBe('"1"');
    const list = await api.get('/api/v1/notes', { token: user.token });
    expect(list.body.items.map((n: { id: string }) => n.id)).toEqual([created.body.id]);
    expect(
      (await api.delete(`/api/v1/notes/${created.body.id}`, { token: user.token })).status,
    ).toBe(204);
    const restored = await api.post(`/api/v1/notes/restore/${created.body.id}`, {
      token: user.token,
    });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ archived: false, archived_at: null, version: 3 });
  });
});
