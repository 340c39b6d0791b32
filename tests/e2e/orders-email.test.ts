import { afterAll, describe, expect, it } from 'vitest';
import { startLocalMail } from '../../infra/local/ses.js';
import { startEventSourceMappings, startLocalQueues } from '../../infra/local/sqs.js';
import { eventually } from '../helpers/eventually.js';

// The whole path of an order e-mail: the order's write → outbox → SQS (fauxqs) → the e-mail
// worker on the local event source mapping → SES (the aws-ses-v2-local emulator), read back
// through the emulator's API. Its own queues and emulator, as the mail tests do.
const queues = await startLocalQueues({ visibilityTimeoutSeconds: 1 });
const mail = await startLocalMail({ from: 'orders@shop.test' });
Object.assign(process.env, queues.env, mail.env, { OUTBOX_PUBLISH_TIMEOUT_MS: '1000' });
const mappings = startEventSourceMappings(queues, { relayIntervalMs: 250 });
afterAll(async () => {
  await mappings.stop();
  await queues.stop();
  await mail.stop().catch(() => {});
});

const { useApi } = await import('../helpers/api.js');
const { createUser } = await import('../helpers/users.js');
const { createProduct, createProfile, placeOrder } = await import('../helpers/orders.js');
const { getSql } = await import('../../shared/db/client.js');
const api = useApi();

const mailTo = async (address: string) =>
  (await mail.emails()).filter((email) => email.destination.to.includes(address));

/** True once every e-mail event of the order is sent (its outbox rows published, each mailed). */
async function settled(orderId: string): Promise<boolean> {
  const [row] = await getSql()<{ waiting: number }[]>`
    SELECT count(*)::int AS waiting FROM outbox o
    WHERE o.queue = 'email' AND o.payload->>'order_id' = ${orderId}
      AND NOT EXISTS (SELECT 1 FROM sent_emails s WHERE s.event_id = o.id AND s.sent_at IS NOT NULL)`;
  return row?.waiting === 0;
}

describe('order e-mails, end to end', () => {
  it('placing an order mails a confirmation; shipping it a notice; processing nothing', async () => {
    const admin = await createUser(api, 'admin');
    const user = await createUser(api);
    const profile = await createProfile(api, user, 'Grace Hopper');
    const product = await createProduct(api, admin, { unit_price: '7.25', name: 'Compiler' });
    const order = await placeOrder(api, user, product.id, 2);

    const [confirmation] = await eventually(async () => {
      const sent = await mailTo(profile.email);
      return sent.length ? sent : null;
    });
    expect(confirmation?.from).toBe('orders@shop.test');
    expect(confirmation?.body.text).toContain('14.50');

    for (const status of ['processing', 'shipped']) {
      const moved = await api.post(`/api/v1/orders/${order.id}/transitions`, {
        token: admin.token,
        body: { status },
      });
      expect(moved.status).toBe(200);
    }
    await eventually(() => settled(order.id));
    const sent = await mailTo(profile.email);
    // The confirmation and the shipping notice; the move to processing sends nothing.
    expect(sent).toHaveLength(2);
    expect(sent[1]?.subject).not.toBe(sent[0]?.subject);
  });
});
