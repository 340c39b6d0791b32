import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Api } from './api.js';
import type { TestUser } from './users.js';

/** A sku no other test uses. */
export const uniqueSku = (prefix = 'SKU') => `${prefix}-${randomUUID().slice(0, 13)}`;

/** Adds a product through the API as `admin`; returns its body. */
export async function createProduct(
  api: Api,
  admin: TestUser,
  fields: { unit_price?: string; name?: string; active?: boolean } = {},
) {
  const response = await api.post('/api/v1/products', {
    token: admin.token,
    body: { sku: uniqueSku(), name: 'Test product', unit_price: '4.00', ...fields },
  });
  expect(response.status, response.text).toBe(201);
  return response.body as { id: string; sku: string; unit_price: string; version: number };
}

/** Creates `user`'s own customer profile (PUT /customers/me); returns its body. */
export async function createProfile(api: Api, user: TestUser, name = 'Test customer') {
  const response = await api.put('/api/v1/customers/me', { token: user.token, body: { name } });
  expect([200, 201], response.text).toContain(response.status);
  return response.body as { id: string; email: string; version: number };
}

/** Places an order as `user` (who has a profile) for `quantity` of `productId`; its body. */
export async function placeOrder(
  api: Api,
  user: TestUser,
  productId: string,
  quantity = 1,
  extra: Record<string, unknown> = {},
) {
  const response = await api.post('/api/v1/orders', {
    token: user.token,
    body: { items: [{ product_id: productId, quantity }], ...extra },
  });
  expect(response.status, response.text).toBe(201);
  return response.body as { id: string; total: string; status: string; version: number };
}
