/**
 * The order e-mails (API.md § Orders, "In the background"): a confirmation for
 * `order.created`, a notice for a move to `shipped` or `cancelled` (with its reason), nothing
 * for any other move. Pure functions: the e-mail worker sends what they return.
 */
import type { OrderEmailMessage, OrderEmailPayload } from './email-message.js';

/** An e-mail's subject and bodies. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * `value` as HTML text or a quoted attribute value: `& < > " '` become character references
 * (OWASP XSS Prevention Cheat Sheet, rule 1), so no input can open or close markup.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/** An amount with two decimals and its currency: `12.5`, `EUR` → `12.50 EUR`. */
function money(amount: string, currency: string): string {
  const [whole, fraction = ''] = amount.split('.');
  return `${whole}.${fraction.padEnd(2, '0')} ${currency}`;
}

/** The short reference of an order in subjects: the first 8 hex digits of its id. */
function reference(orderId: string): string {
  return orderId.slice(0, 8).toUpperCase();
}

interface Parts {
  subject: string;
  /** The paragraphs before the items, as plain text. */
  lines: string[];
}

/** Subject and opening of the e-mail for `message`, or null when it sends nothing. */
function partsOf(message: OrderEmailMessage): Parts | null {
  const { payload } = message;
  const ref = reference(payload.order_id);
  const reason = payload.reason ? [`Reason: ${payload.reason}`] : [];
  if (message.type === 'order.created') {
    return {
      subject: `Order confirmation ${ref}`,
      lines: [
        `Thank you for your order ${ref}. We have received it and will let you know when it ships.`,
      ],
    };
  }
  if (payload.status === 'shipped') {
    return {
      subject: `Your order ${ref} has shipped`,
      lines: [`Your order ${ref} is on its way.`, ...reason],
    };
  }
  if (payload.status === 'cancelled') {
    return {
      subject: `Your order ${ref} was cancelled`,
      lines: [`Your order ${ref} was cancelled.`, ...reason],
    };
  }
  return null;
}

function textOf(payload: OrderEmailPayload, lines: string[]): string {
  const items = payload.items.map(
    (item) =>
      `- ${item.quantity} × ${item.product_name} (${item.sku}) at ${money(item.unit_price, payload.currency)}: ${money(item.line_total, payload.currency)}`,
  );
  return [
    `Hello ${payload.recipient.name},`,
    '',
    ...lines.flatMap((line) => [line, '']),
    'Items:',
    ...items,
    '',
    `Total: ${money(payload.total, payload.currency)}`,
    '',
    `Order id: ${payload.order_id}`,
    '',
  ].join('\n');
}

function htmlOf(payload: OrderEmailPayload, subject: string, lines: string[]): string {
  const e = escapeHtml;
  const cell = (value: string, align = 'left') =>
    `<td style="text-align:${align}">${e(value)}</td>`;
  const rows = payload.items.map(
    (item) =>
      `<tr>${cell(item.product_name)}${cell(item.sku)}${cell(String(item.quantity), 'right')}${cell(
        money(item.unit_price, payload.currency),
        'right',
      )}${cell(money(item.line_total, payload.currency), 'right')}</tr>`,
  );
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${e(subject)}</title></head>`,
    '<body style="font-family:sans-serif">',
    `<p>Hello ${e(payload.recipient.name)},</p>`,
    ...lines.map((line) => `<p>${e(line)}</p>`),
    '<table cellpadding="4">',
    '<thead><tr><th style="text-align:left">Product</th><th style="text-align:left">SKU</th><th style="text-align:right">Quantity</th><th style="text-align:right">Unit price</th><th style="text-align:right">Amount</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody>`,
    `<tfoot><tr><td colspan="4"><strong>Total</strong></td><td style="text-align:right"><strong>${e(
      money(payload.total, payload.currency),
    )}</strong></td></tr></tfoot>`,
    '</table>',
    `<p>Order id: ${e(payload.order_id)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * The e-mail an order event sends to `payload.recipient`: for `order.created` the order
 * confirmation, for `order.status_changed` to `shipped` or `cancelled` a notice (with the
 * reason when one was given); null for any other move, which sends nothing. Every value from
 * the event is escaped in the HTML body (`escapeHtml`); the subject holds only the order's
 * reference (hex digits of its id) and fixed words, so no input reaches a mail header.
 */
export function renderOrderEmail(message: OrderEmailMessage): RenderedEmail | null {
  const parts = partsOf(message);
  if (!parts) return null;
  return {
    subject: parts.subject,
    text: textOf(message.payload, parts.lines),
    html: htmlOf(message.payload, parts.subject, parts.lines),
  };
}
