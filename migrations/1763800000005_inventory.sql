-- Up Migration
CREATE TABLE inventory_records (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  productid   text NOT NULL CHECK (productid ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
  quantity    integer NOT NULL CHECK (quantity >= 0),
  "timestamp" timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- The one index the query needs: equality on productid, range and order on timestamp, id as
-- the tie-breaker; quantity included so the query is an index-only scan.
CREATE INDEX inventory_records_product_time_idx
  ON inventory_records (productid, "timestamp", id) INCLUDE (quantity);

-- Down Migration
DROP TABLE inventory_records;
