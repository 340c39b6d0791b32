/**
 * The order status machine (API.md § Orders): pending → processing | cancelled; processing →
 * shipped | cancelled; shipped → delivered; delivered and cancelled are final.
 */
export const ORDER_STATUSES = [
  'pending',
  'processing',
  'shipped',
  'delivered',
  'cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const MOVES: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['processing', 'cancelled'],
  processing: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

/** The statuses an order in `from` may move to, in the contract's order (empty when final). */
export function allowedMoves(from: OrderStatus): readonly OrderStatus[] {
  return MOVES[from];
}

/** Whether `from` → `to` is a move of the machine. */
export function isAllowedMove(from: OrderStatus, to: OrderStatus): boolean {
  return MOVES[from].includes(to);
}

/**
 * Whether the order's owner (a user, not an admin) may make the move: only cancelling a
 * pending order. Admins may make any allowed move.
 */
export function ownerMayMove(from: OrderStatus, to: OrderStatus): boolean {
  return from === 'pending' && to === 'cancelled';
}

/** The moves that send the customer an e-mail notice (API.md § Orders, in the background). */
export function notifiesCustomer(to: OrderStatus): boolean {
  return to === 'shipped' || to === 'cancelled';
}
