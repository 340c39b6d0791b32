-- Up Migration
-- Orders (API.md § Orders): a product catalog, customers, orders with their lines and the
-- history of their status moves. Money is NUMERIC(12,2) and computed in SQL, never in floats.

CREATE TABLE products (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- The inventory `productid` rule, so stock readings and products join on it.
  sku         text NOT NULL UNIQUE CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
  unit_price  numeric(12,2) NOT NULL CHECK (unit_price BETWEEN 0.01 AND 99999999.99),
  active      boolean NOT NULL DEFAULT true,
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
-- The catalog page order (name, id) for everyone; `q` on name or sku by trigram.
CREATE INDEX products_name_idx ON products (name, id);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_sku_trgm_idx ON products USING gin (sku gin_trgm_ops);

CREATE TABLE customers (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  email      text NOT NULL CHECK (char_length(email) <= 254),
  tier       text NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'pro', 'enterprise')),
  -- A user account links to at most one customer.
  user_id    uuid UNIQUE REFERENCES users (id) ON DELETE SET NULL,
  active     boolean NOT NULL DEFAULT true,
  version    integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- E-mail unique case-insensitively.
CREATE UNIQUE INDEX customers_email_key ON customers (lower(email));
-- The admin list order (newest first, id breaks ties); `q` on name or e-mail by trigram.
CREATE INDEX customers_created_idx ON customers (created_at, id);
CREATE INDEX customers_name_trgm_idx ON customers USING gin (name gin_trgm_ops);
CREATE INDEX customers_email_trgm_idx ON customers USING gin (email gin_trgm_ops);

CREATE TABLE orders (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id uuid NOT NULL REFERENCES customers (id),
  status      text NOT NULL DEFAULT 'pending'
              CHECK (status IN ('pending', 'processing', 'shipped', 'delivered', 'cancelled')),
  currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  total       numeric(12,2) NOT NULL CHECK (total >= 0),
  notes       text NOT NULL DEFAULT '' CHECK (char_length(notes) <= 500),
  created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- Soft delete: a deleted order is 404 to everyone and left out of every list.
  deleted_at  timestamptz
);
-- Each list order, for all orders (admins) and per customer (users, the customer filter);
-- `status` and the date range filter on top. Partial: deleted orders are never listed.
CREATE INDEX orders_created_idx ON orders (created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX orders_total_idx ON orders (total, id) WHERE deleted_at IS NULL;
CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at, id)
  WHERE deleted_at IS NULL;
CREATE INDEX orders_customer_total_idx ON orders (customer_id, total, id)
  WHERE deleted_at IS NULL;

CREATE TABLE order_items (
  order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line_no      integer NOT NULL CHECK (line_no BETWEEN 1 AND 20),
  product_id   uuid NOT NULL REFERENCES products (id),
  -- Copied from the catalog at creation: a later price or name change never alters an order.
  sku          text NOT NULL,
  product_name text NOT NULL,
  quantity     integer NOT NULL CHECK (quantity BETWEEN 1 AND 20),
  unit_price   numeric(12,2) NOT NULL CHECK (unit_price > 0),
  line_total   numeric(12,2) NOT NULL CHECK (line_total = unit_price * quantity),
  PRIMARY KEY (order_id, line_no),
  UNIQUE (order_id, product_id)
);
CREATE INDEX order_items_product_idx ON order_items (product_id);

CREATE TABLE order_status_history (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  from_status text,
  to_status   text NOT NULL,
  actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
  reason      text CHECK (char_length(reason) <= 500),
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order_idx ON order_status_history (order_id, id);

-- Down Migration
DROP TABLE order_status_history;
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE customers;
DROP TABLE products;
