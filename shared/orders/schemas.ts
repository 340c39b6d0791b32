/** Schemas of the orders domain (API.md § Orders): products, customers, orders. */
import * as z from 'zod/mini';
import { ProductId } from '../inventory/schemas.js';
import { queryInteger, Timestamp, UtcTimestamp } from '../schemas.js';
import { Email } from '../users/email.js';
import { ORDER_STATUSES } from './status-machine.js';

const Uuid = z
  .uuid()
  .register(z.globalRegistry, { example: '3b0f6a52-4c1e-4d7a-9e2b-8f1a6c3d5e70' });

export const IdParams = z.object({ id: Uuid });

/**
 * Money in a request: a decimal string with at most two decimals (`"12.5"`, `"12.50"`),
 * `"0.01"`–`"99999999.99"`; a JSON number is refused (API.md § Orders), so no float ever holds
 * a price. Output: the same text, which PostgreSQL's `numeric` reads exactly.
 */
export const Price = z
  .string()
  .check(
    z.regex(
      /^(0|[1-9][0-9]{0,7})(\.[0-9]{1,2})?$/,
      'A decimal string with at most two decimals, e.g. "12.50".',
    ),
    z.refine((price) => !/^0(\.0{1,2})?$/.test(price), { message: 'At least 0.01.' }),
  )
  .register(z.globalRegistry, { example: '12.50' });

/** Money in a response: a decimal string with exactly two decimals. */
const Money = z
  .string()
  .check(z.regex(/^[0-9]+\.[0-9]{2}$/))
  .register(z.globalRegistry, { example: '25.00' });

// A clone: registering metadata on `ProductId` itself would change the inventory's documentation.
const Sku = ProductId.clone().register(z.globalRegistry, {
  description: 'Stock keeping unit: the inventory `productid` rule; unique.',
  example: 'MUG-01',
});
const ProductName = z.string().check(z.trim(), z.minLength(1), z.maxLength(200));
const Description = z.string().check(z.maxLength(2000));
const Version = z.int().check(z.gte(1));

/** The `limit` a page was read with. */
const PageLimit = z.int().check(z.gte(1), z.lte(100));
const LIMIT = queryInteger(1, 100, 20).register(z.globalRegistry, { example: 20 });
const CURSOR = z.optional(z.string().check(z.maxLength(2048))).register(z.globalRegistry, {
  description: 'Opaque `next_cursor` of the previous page, with the same filters.',
});
/** A search string: trimmed; empty means no search. */
const Search = z.pipe(
  z.optional(z.string().check(z.trim(), z.maxLength(200))),
  z.transform((q: string | undefined) => (q ? q : undefined)),
);

// Products

const PRODUCT_EXAMPLE = {
  id: '3b0f6a52-4c1e-4d7a-9e2b-8f1a6c3d5e70',
  sku: 'MUG-01',
  name: 'Coffee mug',
  description: 'Stoneware, 300 ml',
  unit_price: '12.50',
  active: true,
  version: 1,
  created_at: '2024-01-01T10:00:00.000Z',
  updated_at: '2024-01-01T10:00:00.000Z',
};

export const Product = z
  .object({
    id: z.uuid(),
    sku: z.string(),
    name: z.string(),
    description: z.string(),
    unit_price: Money,
    active: z.boolean(),
    version: Version,
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
  })
  .register(z.globalRegistry, { id: 'Product', example: PRODUCT_EXAMPLE });
export type Product = z.output<typeof Product>;

export const CreateProductBody = z
  .strictObject({
    sku: Sku,
    name: ProductName,
    description: z._default(Description, ''),
    unit_price: Price,
    active: z._default(z.boolean(), true),
  })
  .register(z.globalRegistry, {
    id: 'CreateProductRequest',
    example: { sku: 'MUG-01', name: 'Coffee mug', unit_price: '12.50' },
  });
export type CreateProductBody = z.output<typeof CreateProductBody>;

export const PatchProductBody = z
  .strictObject({
    name: z.optional(ProductName),
    description: z.optional(Description),
    unit_price: z.optional(Price),
    active: z.optional(z.boolean()),
  })
  .check(
    z.refine((body) => Object.values(body).some((value) => value !== undefined), {
      message: 'Send at least one of name, description, unit_price, active.',
    }),
  )
  .register(z.globalRegistry, {
    id: 'PatchProductRequest',
    minProperties: 1,
    example: { unit_price: '13.00' },
  });
export type PatchProductBody = z.output<typeof PatchProductBody>;

export const ListProductsQuery = z.object({
  limit: LIMIT,
  cursor: CURSOR,
  q: Search.register(z.globalRegistry, {
    description: 'Case-insensitive substring of the name or the sku.',
  }),
  active: z._default(z.enum(['true', 'false', 'all']), 'true').register(z.globalRegistry, {
    description:
      'Admins only: `false` or `all` include inactive products; users always see active ones.',
  }),
});
export type ListProductsQuery = z.output<typeof ListProductsQuery>;

export const ProductPage = z
  .object({ items: z.array(Product), limit: PageLimit, next_cursor: z.nullable(z.string()) })
  .register(z.globalRegistry, {
    id: 'ProductPage',
    example: { items: [PRODUCT_EXAMPLE], limit: 20, next_cursor: null },
  });
export type ProductPage = z.output<typeof ProductPage>;

// Customers

export const TIERS = ['free', 'pro', 'enterprise'] as const;
const CustomerName = z.string().check(z.trim(), z.minLength(1), z.maxLength(100));

const CUSTOMER_EXAMPLE = {
  id: '8d2e4f6a-1b3c-4d5e-8f7a-9b0c1d2e3f40',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  tier: 'free',
  user_id: '0b7e3c52-5d1f-4a8e-b6c2-9f4d2a1e7c30',
  active: true,
  version: 1,
  created_at: '2024-01-01T10:00:00.000Z',
  updated_at: '2024-01-01T10:00:00.000Z',
};

export const Customer = z
  .object({
    id: z.uuid(),
    name: z.string(),
    email: z.email(),
    tier: z.enum(TIERS),
    user_id: z.nullable(z.uuid()),
    active: z.boolean(),
    version: Version,
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
  })
  .register(z.globalRegistry, { id: 'Customer', example: CUSTOMER_EXAMPLE });
export type Customer = z.output<typeof Customer>;

/** `PUT /customers/me`: the caller's own profile; the e-mail defaults to the account's. */
export const PutMyCustomerBody = z
  .strictObject({ name: CustomerName, email: z.optional(Email) })
  .register(z.globalRegistry, {
    id: 'PutMyCustomerRequest',
    example: { name: 'Ada Lovelace' },
  });
export type PutMyCustomerBody = z.output<typeof PutMyCustomerBody>;

export const CreateCustomerBody = z
  .strictObject({
    name: CustomerName,
    email: Email,
    tier: z._default(z.enum(TIERS), 'free'),
    user_id: z.optional(z.nullable(z.uuid())),
  })
  .register(z.globalRegistry, {
    id: 'CreateCustomerRequest',
    example: { name: 'Acme Ltd', email: 'orders@acme.example', tier: 'pro' },
  });
export type CreateCustomerBody = z.output<typeof CreateCustomerBody>;

export const PatchCustomerBody = z
  .strictObject({
    name: z.optional(CustomerName),
    email: z.optional(Email),
    tier: z.optional(z.enum(TIERS)),
    active: z.optional(z.boolean()),
  })
  .check(
    z.refine((body) => Object.values(body).some((value) => value !== undefined), {
      message: 'Send at least one of name, email, tier, active.',
    }),
  )
  .register(z.globalRegistry, {
    id: 'PatchCustomerRequest',
    minProperties: 1,
    example: { tier: 'enterprise' },
  });
export type PatchCustomerBody = z.output<typeof PatchCustomerBody>;

export const ListCustomersQuery = z.object({
  limit: LIMIT,
  cursor: CURSOR,
  q: Search.register(z.globalRegistry, {
    description: 'Case-insensitive substring of the name or the e-mail.',
  }),
  tier: z.optional(z.enum(TIERS)),
  active: z._default(z.enum(['true', 'false', 'all']), 'all'),
});
export type ListCustomersQuery = z.output<typeof ListCustomersQuery>;

export const CustomerPage = z
  .object({ items: z.array(Customer), limit: PageLimit, next_cursor: z.nullable(z.string()) })
  .register(z.globalRegistry, {
    id: 'CustomerPage',
    example: { items: [CUSTOMER_EXAMPLE], limit: 20, next_cursor: null },
  });
export type CustomerPage = z.output<typeof CustomerPage>;

// Orders

const OrderStatus = z.enum(ORDER_STATUSES);

export const CreateOrderBody = z
  .strictObject({
    customer_id: z.optional(z.uuid()).register(z.globalRegistry, {
      description: 'Admins: required. Users: omitted or their own customer.',
    }),
    items: z
      .array(
        z.strictObject({
          product_id: z.uuid(),
          quantity: z.int().check(z.gte(1), z.lte(20)),
        }),
      )
      .check(z.minLength(1), z.maxLength(20)),
    notes: z._default(z.string().check(z.maxLength(500)), ''),
  })
  .register(z.globalRegistry, {
    id: 'CreateOrderRequest',
    description:
      'Each product at most once; quantity 1–20 per line and at most 20 in total ' +
      '(`order_item_limit`).',
    example: {
      items: [{ product_id: '3b0f6a52-4c1e-4d7a-9e2b-8f1a6c3d5e70', quantity: 2 }],
      notes: 'Leave at the door',
    },
  });
export type CreateOrderBody = z.output<typeof CreateOrderBody>;

export const TransitionBody = z
  .strictObject({
    status: OrderStatus,
    reason: z.optional(z.string().check(z.trim(), z.maxLength(500))),
  })
  .register(z.globalRegistry, {
    id: 'OrderTransitionRequest',
    example: { status: 'shipped', reason: 'Sent with DHL' },
  });
export type TransitionBody = z.output<typeof TransitionBody>;

export const ORDER_SORTS = ['created_at', 'total'] as const;

/** `status=pending,shipped`: one or more statuses, comma separated. */
const StatusFilter = z.pipe(
  z.optional(z.string().check(z.maxLength(100))),
  z.transform((value: string | undefined, context) => {
    if (value === undefined || value === '') return undefined;
    const statuses = [...new Set(value.split(','))].sort();
    const unknown = statuses.filter((s) => !(ORDER_STATUSES as readonly string[]).includes(s));
    if (unknown.length > 0) {
      context.issues.push({
        code: 'custom',
        input: value,
        message: `Unknown status: ${unknown.join(', ')}. Use ${ORDER_STATUSES.join(', ')}.`,
      });
      return z.NEVER;
    }
    return statuses as (typeof ORDER_STATUSES)[number][];
  }),
);

export const ListOrdersQuery = z
  .object({
    limit: LIMIT,
    cursor: CURSOR,
    status: StatusFilter.register(z.globalRegistry, {
      description: `One or more of ${ORDER_STATUSES.join(', ')}, comma separated.`,
      example: 'pending,processing',
    }),
    customer_id: z.optional(z.uuid()).register(z.globalRegistry, {
      description: 'Admins only: the orders of one customer.',
    }),
    created_from: z
      .optional(Timestamp)
      .register(z.globalRegistry, { description: 'Inclusive lower bound of created_at.' }),
    created_to: z
      .optional(Timestamp)
      .register(z.globalRegistry, { description: 'Inclusive upper bound of created_at.' }),
    sort: z._default(z.enum(ORDER_SORTS), 'created_at'),
    order: z._default(z.enum(['desc', 'asc']), 'desc'),
  })
  .check(
    z.refine((q) => !q.created_from || !q.created_to || q.created_from <= q.created_to, {
      message: 'created_from must not be after created_to.',
      path: ['created_to'],
    }),
  );
export type ListOrdersQuery = z.output<typeof ListOrdersQuery>;

const ORDER_ITEM_EXAMPLE = {
  product_id: '3b0f6a52-4c1e-4d7a-9e2b-8f1a6c3d5e70',
  sku: 'MUG-01',
  product_name: 'Coffee mug',
  quantity: 2,
  unit_price: '12.50',
  line_total: '25.00',
};
const ORDER_EXAMPLE = {
  id: 'c4a1e2f3-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
  customer_id: '8d2e4f6a-1b3c-4d5e-8f7a-9b0c1d2e3f40',
  status: 'pending',
  currency: 'EUR',
  total: '25.00',
  notes: '',
  items: [ORDER_ITEM_EXAMPLE],
  version: 1,
  created_at: '2024-01-01T10:00:00.000Z',
  updated_at: '2024-01-01T10:00:00.000Z',
};

const OrderItem = z.object({
  product_id: z.uuid(),
  sku: z.string(),
  product_name: z.string(),
  quantity: z.int().check(z.gte(1), z.lte(20)),
  unit_price: Money,
  line_total: Money,
});

const orderFields = {
  id: z.uuid(),
  customer_id: z.uuid(),
  status: OrderStatus,
  currency: z.string(),
  total: Money,
  notes: z.string(),
  items: z.array(OrderItem),
  version: Version,
  created_at: UtcTimestamp,
  updated_at: UtcTimestamp,
};

export const Order = z
  .object(orderFields)
  .register(z.globalRegistry, { id: 'Order', example: ORDER_EXAMPLE });
export type Order = z.output<typeof Order>;

const StatusChange = z.object({
  from: z.nullable(OrderStatus),
  to: OrderStatus,
  at: UtcTimestamp,
  actor_id: z.nullable(z.uuid()),
  reason: z.nullable(z.string()),
});

/** An order with its status history, oldest first (`GET /orders/{id}`). */
export const OrderDetail = z
  .object({ ...orderFields, status_history: z.array(StatusChange) })
  .register(z.globalRegistry, {
    id: 'OrderDetail',
    example: {
      ...ORDER_EXAMPLE,
      status_history: [
        { from: null, to: 'pending', at: '2024-01-01T10:00:00.000Z', actor_id: null, reason: null },
      ],
    },
  });
export type OrderDetail = z.output<typeof OrderDetail>;

export const OrderPage = z
  .object({ items: z.array(Order), limit: PageLimit, next_cursor: z.nullable(z.string()) })
  .register(z.globalRegistry, {
    id: 'OrderPage',
    example: { items: [ORDER_EXAMPLE], limit: 20, next_cursor: null },
  });
export type OrderPage = z.output<typeof OrderPage>;
