import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderEmailMessage } from '../../shared/orders/email-message.js';
import { escapeHtml, renderOrderEmail } from '../../shared/orders/emails.js';

const ORDER_ID = '3f1c2a9e-8b7d-4c6e-9a1f-2b3c4d5e6f70';

function message(
  overrides: {
    type?: 'order.created' | 'order.status_changed';
    status?: OrderEmailMessage['payload']['status'];
    reason?: string | null;
    name?: string;
    productName?: string;
    sku?: string;
  } = {},
): OrderEmailMessage {
  return OrderEmailMessage.parse({
    event_id: '8d2f7c1e-4b3a-4f6d-9e2c-1a2b3c4d5e6f',
    type: overrides.type ?? 'order.created',
    occurred_at: '2026-11-22T12:00:00Z',
    payload: {
      order_id: ORDER_ID,
      status: overrides.status ?? 'pending',
      previous_status: overrides.type === 'order.status_changed' ? 'processing' : null,
      reason: overrides.reason ?? null,
      recipient: { email: 'ada@example.com', name: overrides.name ?? 'Ada' },
      currency: 'EUR',
      total: '12.5',
      items: [
        {
          sku: overrides.sku ?? 'TEA-1',
          product_name: overrides.productName ?? 'Green tea',
          quantity: 2,
          unit_price: '4',
          line_total: '8.00',
        },
        { sku: 'MUG-1', product_name: 'Mug', quantity: 1, unit_price: '4.50', line_total: '4.50' },
      ],
    },
  });
}

describe('order e-mails', () => {
  it('order.created: a confirmation with the items, amounts with two decimals and the total', () => {
    const email = renderOrderEmail(message());
    expect(email?.subject).toBe('Order confirmation 3F1C2A9E');
    expect(email?.text).toContain('Hello Ada,');
    expect(email?.text).toContain('- 2 × Green tea (TEA-1) at 4.00 EUR: 8.00 EUR');
    expect(email?.text).toContain('Total: 12.50 EUR');
    expect(email?.text).toContain(`Order id: ${ORDER_ID}`);
    expect(email?.html).toContain('<strong>12.50 EUR</strong>');
  });

  it('a move to shipped or cancelled: a notice with the reason; any other move: nothing', () => {
    const shipped = renderOrderEmail(message({ type: 'order.status_changed', status: 'shipped' }));
    expect(shipped?.subject).toBe('Your order 3F1C2A9E has shipped');
    expect(shipped?.text).not.toContain('Reason:');
    const cancelled = renderOrderEmail(
      message({ type: 'order.status_changed', status: 'cancelled', reason: 'Out of stock' }),
    );
    expect(cancelled?.subject).toBe('Your order 3F1C2A9E was cancelled');
    expect(cancelled?.text).toContain('Reason: Out of stock');
    expect(cancelled?.html).toContain('<p>Reason: Out of stock</p>');
    for (const status of ['processing', 'delivered', 'pending'] as const) {
      expect(
        renderOrderEmail(message({ type: 'order.status_changed', status })),
        status,
      ).toBeNull();
    }
  });

  it('escapes HTML in every value from the event', () => {
    const email = renderOrderEmail(
      message({
        type: 'order.status_changed',
        status: 'cancelled',
        name: '<script>alert(1)</script>',
        productName: 'Tea & "biscuits"',
        sku: "O'NEIL-1",
        reason: '<img src=x onerror=alert(1)>',
      }),
    );
    const html = email?.html ?? '';
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(html).toContain('Tea &amp; &quot;biscuits&quot;');
    expect(html).toContain('O&#39;NEIL-1');
    expect(html).toContain('Reason: &lt;img src=x onerror=alert(1)&gt;');
    // Plain text is not HTML: it carries the values as they are.
    expect(email?.text).toContain('Hello <script>alert(1)</script>,');
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('property: any name and product name appear escaped and add no markup', () => {
    const markup = (html: string) => html.match(/[<>"']/g)?.length ?? 0;
    const plain = renderOrderEmail(message({ name: 'x', productName: 'y' }))?.html ?? '';
    const text = fc.string({ minLength: 1, maxLength: 200, unit: 'binary' });
    fc.assert(
      fc.property(text, text, (name, productName) => {
        const html = renderOrderEmail(message({ name, productName }))?.html ?? '';
        expect(html).toContain(`Hello ${escapeHtml(name)},`);
        expect(html).toContain(`<td style="text-align:left">${escapeHtml(productName)}</td>`);
        // The markup characters are the template's alone, whatever the values hold.
        expect(markup(html)).toBe(markup(plain));
      }),
    );
  });

  it('the message schema refuses what the worker must not send (poison goes to the DLQ)', () => {
    const valid = JSON.parse(JSON.stringify(message()));
    expect(OrderEmailMessage.safeParse(valid).success).toBe(true);
    const broken = [
      { ...valid, type: 'order.deleted' },
      { ...valid, event_id: 'not-a-uuid' },
      { ...valid, payload: { ...valid.payload, total: 12.5 } },
      { ...valid, payload: { ...valid.payload, total: '12.505' } },
      { ...valid, payload: { ...valid.payload, items: [] } },
      { ...valid, payload: { ...valid.payload, status: 'lost' } },
      { ...valid, payload: { ...valid.payload, recipient: { email: 'nope', name: 'Ada' } } },
      { ...valid, payload: { ...valid.payload, recipient: { email: 'a@b.test', name: '' } } },
    ];
    for (const value of broken) {
      expect(OrderEmailMessage.safeParse(value).success, JSON.stringify(value)).toBe(false);
    }
  });
});
